/*
 * Calls whose every argument and result the tests compare with strace's rendering. Each
 * literal sits on a page of its own that nothing touches before the call does: at sys_enter it
 * is not yet paged in, as in a fresh process. Waits for a line on stdin first.
 *   calls   write, open, read, openat, newfstatat, getcwd, pipe2, uname, kill, arch_prctl,
 *           prlimit64, and an open that fails
 *   block   a read on a pipe that blocks 3 s (a child writes to it then)
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNTOUCHED __attribute__((aligned(4096)))
static const char plus[] UNTOUCHED = "+";
static const char hostname_path[] UNTOUCHED = "/etc/hostname";
static const char os_release_path[] UNTOUCHED = "/etc/os-release";
static const char missing_path[] UNTOUCHED = "/nonexistent/tawon-exact";

static void calls(void)
{
    char buffer[64];
    struct stat status;
    char directory[4096];
    int fds[2];
    struct utsname names;
    unsigned long fs;
    struct rlimit limit;

    write(1, plus, 1);
    int fd = syscall(SYS_open, hostname_path, O_RDONLY);
    read(fd, buffer, sizeof buffer);
    close(fd);
    fd = openat(AT_FDCWD, os_release_path, O_RDONLY | O_CLOEXEC);
    close(fd);
    syscall(SYS_newfstatat, AT_FDCWD, hostname_path, &status, 0);
    syscall(SYS_getcwd, directory, sizeof directory);
    pipe2(fds, O_CLOEXEC);
    uname(&names);
    kill(getpid(), 0);
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &limit);
    syscall(SYS_open, missing_path, O_RDONLY);
}

static void block(void)
{
    int fds[2];
    char byte;
    pipe(fds);
    if (fork() == 0) {
        sleep(3);
        write(fds[1], "x", 1);
        _exit(0);
    }
    read(fds[0], &byte, 1);
    wait(NULL);
}

int main(int argc, char **argv)
{
    char line[8];
    if (read(0, line, sizeof line) <= 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "block") == 0)
        block();
    else
        calls();
    return 0;
}
