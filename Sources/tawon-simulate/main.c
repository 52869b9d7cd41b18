/*
 * tawon-simulate: makes the privileged syscalls of the demo's simulations, harmlessly, in its
 * own short-lived process, so tawon can show (and the health check can prove) that it sees them.
 *
 *   tawon-simulate NAME... [--token TEXT]
 *
 * NAME is one of cap_chown, cap_ipc_lock, cap_kill, cap_net_raw, cap_setuid, cap_sys_chroot,
 * cap_sys_ptrace, or all. --token is ignored; it marks the command line so a directive can select
 * exactly these runs (process.cmd:~TEXT~). Each simulation prints one line:
 *   NAME ok
 *   NAME failed: CALL: REASON
 * A failed call still happened (and is traced); the reason says what was missing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The first failure of a simulation, kept for its report line. */
static char failure[256];

static int check(int result, const char *call)
{
    if (result < 0 && failure[0] == 0)
        snprintf(failure, sizeof failure, "%s: %s", call, strerror(errno));
    return result;
}

/* chown a temporary file to its own owner. */
static void cap_chown(void)
{
    char path[] = "/tmp/tawon-simulate-XXXXXX";
    int fd = mkstemp(path);
    if (check(fd, "mkstemp") < 0) return;
    check(chown(path, getuid(), getgid()), "chown");
    close(fd);
    unlink(path);
}

/* Lock one page, then everything current; unlock both. */
static void cap_ipc_lock(void)
{
    static char page[4096];
    if (check(mlockall(MCL_CURRENT), "mlockall") == 0) munlockall();
    if (check(mlock(page, sizeof page), "mlock") == 0) munlock(page, sizeof page);
}

/* Signal 0 to itself: checks permission, delivers nothing. */
static void cap_kill(void)
{
    check(kill(getpid(), 0), "kill");
}

/* A raw socket bound to loopback. */
static void cap_net_raw(void)
{
    int fd = check(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), "socket");
    /* Without the privilege (an agent that dropped it), the calls that follow still happen, on
     * a socket anyone may have: they are what the demo shows being seen. */
    if (fd < 0)
        fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return;
    int one = 1;
    check(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), "setsockopt");
    struct sockaddr_in loopback = {.sin_family = AF_INET};
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(bind(fd, (struct sockaddr *)&loopback, sizeof loopback), "bind");
    close(fd);
}

/* setuid and setreuid to the ids it already has. */
static void cap_setuid(void)
{
    check(setuid(getuid()), "setuid");
    check(setreuid(getuid(), geteuid()), "setreuid");
}

/* chroot into a temporary directory; setns into its own UTS namespace. */
static void cap_sys_chroot(void)
{
    int ns = open("/proc/self/ns/uts", O_RDONLY);  /* before chroot hides /proc */
    char directory[] = "/tmp/tawon-chroot-XXXXXX";
    if (check(mkdtemp(directory) ? 0 : -1, "mkdtemp") == 0) {
        check(chroot(directory), "chroot");
        rmdir(directory);  /* still reachable: the process's cwd is outside its new root */
    }
    if (check(ns, "open /proc/self/ns/uts") >= 0) {
        check(setns(ns, CLONE_NEWUTS), "setns");
        close(ns);
    }
}

/* Attach to its own child, then let it go. */
static void cap_sys_ptrace(void)
{
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    if (check(child, "fork") < 0) return;
    if (check(ptrace(PTRACE_ATTACH, child, NULL, NULL), "ptrace") == 0) {
        waitpid(child, NULL, 0);
        ptrace(PTRACE_DETACH, child, NULL, NULL);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

static const struct {
    const char *name;
    void (*run)(void);
} simulations[] = {
    {"cap_chown", cap_chown},     {"cap_ipc_lock", cap_ipc_lock},     {"cap_kill", cap_kill},
    {"cap_net_raw", cap_net_raw}, {"cap_setuid", cap_setuid},         {"cap_sys_chroot", cap_sys_chroot},
    {"cap_sys_ptrace", cap_sys_ptrace},
};
static const size_t count = sizeof simulations / sizeof simulations[0];

static void simulate(size_t index)
{
    failure[0] = 0;
    /* Each simulation in a child of its own: chroot and setns must not leak into the next. */
    pid_t child = fork();
    if (child == 0) {
        simulations[index].run();
        if (failure[0]) printf("%s failed: %s\n", simulations[index].name, failure);
        else printf("%s ok\n", simulations[index].name);
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, NULL, 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--token") == 0) {
            i++;
            continue;
        }
        int known = 0;
        for (size_t s = 0; s < count; s++) {
            if (strcmp(argv[i], "all") == 0 || strcmp(argv[i], simulations[s].name) == 0) {
                simulate(s);
                known = 1;
            }
        }
        if (!known) {
            fprintf(stderr, "tawon-simulate: unknown simulation '%s'\n", argv[i]);
            return 2;
        }
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "usage: tawon-simulate NAME... [--token TEXT]\n");
        return 2;
    }
    return 0;
}
