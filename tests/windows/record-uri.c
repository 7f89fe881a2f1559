/* Test-only workspaces:// handler: appends its one argument (UTF-8) to %WSDR_TEST_URI_LOG%, one
 * line per launch; exits 9 (and logs "ARGC n") on any other number of arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

int wmain(int argc, wchar_t **argv) {
    const wchar_t *log = _wgetenv(L"WSDR_TEST_URI_LOG");
    if (!log) return 3;
    FILE *file = _wfopen(log, L"ab");
    if (!file) return 4;
    if (argc != 2) {
        fprintf(file, "ARGC %d\n", argc);
        fclose(file);
        return 9;
    }
    char uri[8192];
    if (!WideCharToMultiByte(CP_UTF8, 0, argv[1], -1, uri, sizeof uri, NULL, NULL)) return 5;
    fprintf(file, "%s\n", uri);
    fclose(file);
    return 0;
}
