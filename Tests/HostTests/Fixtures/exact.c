/*
 * Calls whose every argument and result the tests compare with strace's rendering. Each
 * literal sits on a page of its own that nothing touches before the call does: at sys_enter it
 * is not yet paged in, as in a fresh process. Waits for a line on stdin first.
 *   calls   write, open, read, openat, newfstatat, getcwd, pipe2, uname, kill, arch_prctl,
 *           prlimit64, an open that fails, then over loopback socket, bind, listen,
 *           getsockname, connect, accept, sendto, recvfrom, then prctl(PR_SET_NAME) and an
 *           execve of /bin/true with arguments
 *   block   a read on a pipe that blocks 3 s (a child writes to it then)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <asm/prctl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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
static const char message[] UNTOUCHED = "ping";
static const char new_name[] UNTOUCHED = "tawon-renamed";
static const char true_path[] UNTOUCHED = "/bin/true";
static const char true_argument[] UNTOUCHED = "--version";
static const char environment_entry[] UNTOUCHED = "TAWON=1";

static void network(void)
{
    int server = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    bind(server, (struct sockaddr *)&address, sizeof address);
    listen(server, 1);
    getsockname(server, (struct sockaddr *)&address, &length);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    connect(client, (struct sockaddr *)&address, sizeof address);
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof peer;
    int accepted = accept(server, (struct sockaddr *)&peer, &peer_length);
    sendto(client, message, 4, 0, NULL, 0);
    char buffer[16];
    recvfrom(accepted, buffer, sizeof buffer, 0, NULL, NULL);
}

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
    network();
    prctl(PR_SET_NAME, new_name);
    char *const arguments[] = {(char *)true_path, (char *)true_argument, NULL};
    char *const environment[] = {(char *)environment_entry, NULL};
    execve(true_path, arguments, environment);
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
    /* Descriptors the test runner let us inherit would shift every number the calls get. */
    syscall(SYS_close_range, 3, ~0U, 0);
    char line[8];
    if (read(0, line, sizeof line) <= 0)
        return 1;
    if (argc > 1 && strcmp(argv[1], "block") == 0)
        block();
    else
        calls();
    return 0;
}
