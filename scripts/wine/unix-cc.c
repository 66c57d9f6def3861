/*
 * unix-cc.exe: the C compiler of Windows programs run under wine, for
 * scripts/windows-under-wine (never shipped). `hotslot.exe demo` and the
 * end-to-end tests build C plugins at run time with `$CC`; under wine the
 * compiler at hand is Debian's mingw-w64 gcc, a Linux program. Wine starts
 * a Linux program from a Windows one, but gives the parent no process
 * handle to wait on (CreateProcess succeeds, the wait fails with "invalid
 * handle"), and its pipes are wine's own, which a Linux program cannot
 * write to. Its sockets are the system's, though. So this program listens
 * on a loopback port and runs
 *
 *     bash -c 'exec 3<>/dev/tcp/127.0.0.1/PORT || exit
 *              x86_64-w64-mingw32-gcc "$@" >&3 2>&3; echo "<marker>$?" >&3' bash ARGS
 *
 * then reads the connection to its end (which comes when the shell and the
 * compiler have exited: no polling), passes the compiler's output on to
 * stderr and exits with the compiler's status, which the last line
 * carries; a shell that ends without it is a failure. Every argument
 * that is not an option (a path: the source, `-o`'s and `-I`'s operands)
 * is translated to its Unix path with wine's `wine_get_unix_file_name`.
 */
#include <winsock2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <shellapi.h>

#define MARKER "unix-cc-status:"

typedef char *(CDECL *unix_name_fn)(const WCHAR *);
typedef WCHAR *(CDECL *dos_name_fn)(const char *);

static void fail(const char *what) {
    fprintf(stderr, "unix-cc: %s (error %lu)\n", what, (unsigned long)GetLastError());
    exit(127);
}

/* Appends `arg` to `line`, quoted for Windows' command line rules (which
 * wine follows to make the Linux program's argv). */
static void append_quoted(WCHAR *line, size_t cap, const WCHAR *arg) {
    size_t n = wcslen(line);
#define PUT(c)                          \
    do {                                \
        if (n + 1 >= cap)               \
            fail("command line too long"); \
        line[n++] = (c);                \
    } while (0)
    if (n > 0)
        PUT(L' ');
    PUT(L'"');
    for (const WCHAR *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == L'\\') {
            p++;
            slashes++;
        }
        if (*p == 0) {
            for (size_t i = 0; i < slashes * 2; i++)
                PUT(L'\\');
            break;
        }
        if (*p == L'"') {
            for (size_t i = 0; i < slashes * 2 + 1; i++)
                PUT(L'\\');
        } else {
            for (size_t i = 0; i < slashes; i++)
                PUT(L'\\');
        }
        PUT(*p);
    }
    PUT(L'"');
    line[n] = 0;
#undef PUT
}

int main(void) {
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
    unix_name_fn unix_name = (unix_name_fn)(void (*)(void))GetProcAddress(kernel32, "wine_get_unix_file_name");
    dos_name_fn dos_name = (dos_name_fn)(void (*)(void))GetProcAddress(kernel32, "wine_get_dos_file_name");
    if (!unix_name || !dos_name)
        fail("not running under wine");

    /* Wine's sockets are the system's: the Linux side connects to this one
     * and writes the compiler's output, then its status, down it. */
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa))
        fail("cannot start winsock");
    SOCKET listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int addr_len = sizeof addr;
    if (listener == INVALID_SOCKET || bind(listener, (struct sockaddr *)&addr, sizeof addr) ||
        listen(listener, 1) || getsockname(listener, (struct sockaddr *)&addr, &addr_len))
        fail("cannot listen on the loopback interface");
    WCHAR script[256];
    swprintf(script, 256,
             L"exec 3<>/dev/tcp/127.0.0.1/%u || exit; x86_64-w64-mingw32-gcc \"$@\" >&3 2>&3; "
             L"echo \"" MARKER L"$?\" >&3",
             (unsigned)ntohs(addr.sin_port));

    int argc;
    WCHAR **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv)
        fail("cannot read the command line");
    size_t cap = 1 << 16;
    WCHAR *line = calloc(cap, sizeof(WCHAR));
    WCHAR *bash = dos_name("/bin/bash");
    if (!line || !bash)
        fail("cannot find /bin/bash");
    append_quoted(line, cap, bash);
    append_quoted(line, cap, L"-c");
    append_quoted(line, cap, script);
    append_quoted(line, cap, L"bash");
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == L'-') {
            append_quoted(line, cap, argv[i]);
            continue;
        }
        char *path = unix_name(argv[i]);
        if (!path)
            fail("cannot translate a path to Unix");
        int len = MultiByteToWideChar(CP_UTF8, 0, path, -1, NULL, 0);
        WCHAR *wide = calloc(len, sizeof(WCHAR));
        if (!wide)
            fail("out of memory");
        MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, len);
        append_quoted(line, cap, wide);
        free(wide);
        HeapFree(GetProcessHeap(), 0, path);
    }

    STARTUPINFOW si = {0};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi = {0};
    if (!CreateProcessW(bash, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        fail("cannot start the compiler");
    /* A shell that cannot connect exits: give up on it after a minute. */
    fd_set ready;
    FD_ZERO(&ready);
    FD_SET(listener, &ready);
    struct timeval minute = {60, 0};
    if (select(0, &ready, NULL, NULL, &minute) != 1)
        fail("the compiler's shell did not connect within a minute");
    SOCKET conn = accept(listener, NULL, NULL);
    if (conn == INVALID_SOCKET)
        fail("the compiler's shell did not connect");

    /* The connection ends when the shell, and the compiler it started,
     * have exited. */
    size_t used = 0, size = 4096;
    char *out = malloc(size);
    if (!out)
        fail("out of memory");
    for (;;) {
        if (used + 1024 > size) {
            size *= 2;
            out = realloc(out, size);
            if (!out)
                fail("out of memory");
        }
        int got = recv(conn, out + used, (int)(size - used - 1), 0);
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    out[used] = 0;

    char *status = NULL;
    for (char *p = strstr(out, MARKER); p; p = strstr(p + 1, MARKER))
        status = p;
    if (!status) {
        fputs(out, stderr);
        fprintf(stderr, "unix-cc: the compiler's shell ended without a status\n");
        return 127;
    }
    fwrite(out, 1, (size_t)(status - out), stderr);
    return atoi(status + strlen(MARKER));
}
