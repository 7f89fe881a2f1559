"""wsdr's AWS-faithful local emulator: moto server plus WorkSpaces behaviour as AWS documents it.

Start it with ``python -m wsdr_emulator --port 0``; see README.md beside this package.
"""

__version__ = "0.1.0"

READY_PREFIX = "WSDR_EMULATOR_READY"
