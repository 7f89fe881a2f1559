<#
.SYNOPSIS
    Exports the ENABLED users of an AD OU to a CSV and uploads it to the wsdr users bucket.

.DESCRIPTION
    Runs on the domain controller (or a domain-joined member server with the RSAT AD module and AWS Tools for
    PowerShell) as SYSTEM, started by the wsdr SSM maintenance window (infra/template.yaml, ExportTask). The window
    downloads this file from s3://<UsersBucket>/scripts/Export-WsdrUsers.ps1 and runs it only when its SHA-256
    equals the stack parameter ExportScriptSha256, so any change to this file needs a stack update.

    Output format (the contract the reconcile function parses):
      - header row "SamAccountName","Enabled","UserPrincipalName", every field double-quoted ("" escapes a quote);
      - one row per ENABLED user (Get-ADUser -Filter 'Enabled -eq $true'), sorted by SamAccountName;
      - CRLF after every line, including the last;
      - UTF-8 WITH a byte-order mark, which is what Windows PowerShell 5.1's Export-Csv -Encoding UTF8 writes. The
        file is written with an explicit UTF8Encoding($true) so PowerShell 7 produces the same bytes.
    The file is written to a temporary file and moved into place (Move-Item -Force), so a reader never sees a
    half-written export, and it is uploaded only after the AD query succeeded and returned at least one user
    (unless -AllowEmpty): a failed or empty query must never look like "everybody left" (defect B1 of the original).

    NOTE FOR MAINTAINERS: there is no PowerShell on the machines that build and test wsdr, so this script is never
    executed in CI. Its output format is pinned by the fixture tests/fixtures/users/improved-utf8-bom-crlf.csv
    (same header, quoting, BOM and CRLF; the fixture also has disabled rows, which this script never writes), and
    infra/tests/test_export_script.py checks the script's text for the rules above. Keep the three in step.

.PARAMETER SearchBase
    Distinguished name of the OU, e.g. OU=users,OU=workspaces,DC=example,DC=com.
.PARAMETER SearchScope
    Subtree (default: the OU and its child OUs), OneLevel (direct children only) or Base.
.PARAMETER Bucket
    The wsdr users bucket (stack output UsersBucketName).
.PARAMETER Key
    Object key of the export; the stack triggers reconciliation for keys under users/.
.PARAMETER Region
    Region of the bucket (the DR region). Always passed explicitly: the instance's default region may be the
    primary region, which is exactly the one that may be down.
.PARAMETER OutputDirectory
    Local folder for the CSV (created if missing).
.PARAMETER Server
    Optional domain controller to query (default: the local one / the locator's choice).
.PARAMETER AllowEmpty
    Upload even when the OU has no enabled users. Reconciliation still applies its safety policy.
.PARAMETER NoUpload
    Write the local CSV only (for a manual check on the DC).

.NOTES
    Exit codes: 0 uploaded (or written with -NoUpload); 2 the AD query failed; 3 no enabled users and no
    -AllowEmpty; 4 writing the file failed; 5 the upload failed; 1 anything else.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateNotNullOrEmpty()]
    [string] $SearchBase,

    [ValidateSet('Subtree', 'OneLevel', 'Base')]
    [string] $SearchScope = 'Subtree',

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$')]
    [string] $Bucket,

    [ValidatePattern('^users/[A-Za-z0-9._/-]+\.csv$')]
    [string] $Key = 'users/workspaces-users.csv',

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[a-z]{2}(-gov)?-[a-z]+-[0-9]$')]
    [string] $Region,

    [ValidateNotNullOrEmpty()]
    [string] $OutputDirectory = (Join-Path $env:ProgramData 'wsdr'),

    [string] $Server,

    [switch] $AllowEmpty,

    [switch] $NoUpload
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function ConvertTo-CsvField {
    param([AllowNull()] [AllowEmptyString()] [string] $Value)
    if ($null -eq $Value) { $Value = '' }
    return '"' + $Value.Replace('"', '""') + '"'
}

function Import-AwsS3Module {
    if (Get-Module -ListAvailable -Name 'AWS.Tools.S3') {
        Import-Module 'AWS.Tools.S3'
    } elseif (Get-Module -ListAvailable -Name 'AWSPowerShell') {
        Import-Module 'AWSPowerShell'
    } else {
        throw 'AWS Tools for PowerShell (AWS.Tools.S3 or AWSPowerShell) is not installed on this machine'
    }
}

# 1. Query AD. Any failure stops here: nothing is written, nothing is uploaded.
try {
    Import-Module 'ActiveDirectory'
    $query = @{
        Filter      = 'Enabled -eq $true'
        SearchBase  = $SearchBase
        SearchScope = $SearchScope
        Properties  = @('SamAccountName', 'Enabled', 'UserPrincipalName')
    }
    if ($Server) { $query['Server'] = $Server }
    $users = @(Get-ADUser @query | Where-Object { $_.Enabled -eq $true } | Sort-Object -Property SamAccountName)
} catch {
    Write-Error -Message ("wsdr export: the AD query for '{0}' failed, nothing uploaded: {1}" -f $SearchBase, $_.Exception.Message) -ErrorAction Continue
    exit 2
}

if ($users.Count -eq 0 -and -not $AllowEmpty) {
    Write-Error -Message ("wsdr export: no enabled users under '{0}' (scope {1}); refusing to upload an empty list (use -AllowEmpty if that is really intended)" -f $SearchBase, $SearchScope) -ErrorAction Continue
    exit 3
}

# 2. Write the CSV atomically: temporary file in the same folder, then Move-Item -Force over the final name.
$finalPath = $null
$tempPath = $null
try {
    New-Item -ItemType Directory -Path $OutputDirectory -Force | Out-Null
    $fileName = $Key.Substring($Key.LastIndexOf('/') + 1)
    $finalPath = Join-Path $OutputDirectory $fileName
    $tempPath = Join-Path $OutputDirectory ('.{0}.{1}.tmp' -f $fileName, [guid]::NewGuid().ToString('N'))

    $lines = New-Object 'System.Collections.Generic.List[string]'
    $lines.Add('"SamAccountName","Enabled","UserPrincipalName"')
    foreach ($user in $users) {
        $fields = @(
            (ConvertTo-CsvField -Value ([string] $user.SamAccountName)),
            (ConvertTo-CsvField -Value ([string] $user.Enabled)),
            (ConvertTo-CsvField -Value ([string] $user.UserPrincipalName))
        )
        $lines.Add($fields -join ',')
    }
    $text = ($lines -join "`r`n") + "`r`n"
    $utf8WithBom = New-Object 'System.Text.UTF8Encoding' -ArgumentList $true
    [System.IO.File]::WriteAllText($tempPath, $text, $utf8WithBom)
    Move-Item -LiteralPath $tempPath -Destination $finalPath -Force
} catch {
    Write-Error -Message ("wsdr export: writing the CSV in '{0}' failed, nothing uploaded: {1}" -f $OutputDirectory, $_.Exception.Message) -ErrorAction Continue
    exit 4
} finally {
    if ($tempPath -and (Test-Path -LiteralPath $tempPath)) {
        Remove-Item -LiteralPath $tempPath -Force -ErrorAction SilentlyContinue
    }
}

if ($NoUpload) {
    Write-Output ("wsdr export: wrote {0} enabled users of '{1}' ({2}) to {3} (not uploaded)" -f $users.Count, $SearchBase, $SearchScope, $finalPath)
    exit 0
}

# 3. Upload with an explicit region (credentials: the instance profile).
try {
    Import-AwsS3Module
    Write-S3Object -BucketName $Bucket -Key $Key -File $finalPath -Region $Region -ContentType 'text/csv; charset=utf-8'
} catch {
    Write-Error -Message ("wsdr export: upload to s3://{0}/{1} ({2}) failed: {3}" -f $Bucket, $Key, $Region, $_.Exception.Message) -ErrorAction Continue
    exit 5
}

Write-Output ("wsdr export: uploaded {0} enabled users of '{1}' ({2}) to s3://{3}/{4} ({5})" -f $users.Count, $SearchBase, $SearchScope, $Bucket, $Key, $Region)
exit 0
