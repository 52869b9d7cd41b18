/*
 * A workload for kernel tests: waits for a line on stdin (so the test can set up its directive
 * for this pid first), then makes the syscalls of one scenario and exits.
 *   write     write(1, "+", 1)
 *   net       socket, setsockopt, bind, read (the CAP_NET_RAW preset has no read)
 *   many      twenty-odd distinct syscalls with paths and buffers
 *   getppid N N calls of getppid
 *   capmoment as root: runs with an empty effective set; getppid, then socket() with CAP_NET_RAW
 *             raised into the effective set just around it, then socket() and getppid again
 *   execer N PATH  fork and exec PATH N times, one after the other
 *   forkexec N  N children at once: each writes twice and calls getppid, then execs
 *             `/bin/sleep 1` (still running, under its new image, while a tracer catches up)
 *   rename NAME prctl(PR_SET_NAME, NAME), then getppid
 *   paced N   N calls of getppid at about 100,000 a second
 *   pinned CPU N FILE SLOT  on CPU alone (set before the go line), N calls of getppid, in
 *             step with a partner: FILE holds two counters, SLOT (0 or 1) is ours; neither gets
 *             more than PINNED_LEAD calls ahead of the other, so the two always overlap in time
 *   halves N  N calls of getppid, a line "half" on stdout, then after a second line on stdin,
 *             N more
 *   leaderexit N [wait]  the main thread ends (pthread_exit) while a second thread goes on: N
 *             calls of getppid, then exit_group(7); with wait, after a second line on stdin
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/capability.h>
#include <unistd.h>

static void wait_for_go(void)
{
    char line[16];
    if (!fgets(line, sizeof line, stdin)) exit(2);
}

static void net(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(0)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&address, sizeof address);
    char buffer[4];
    int null = open("/dev/null", O_RDONLY);
    read(null, buffer, sizeof buffer);
    close(null);
    close(fd);
}

static void many(const char *directory)
{
    char path[512], renamed[512];
    snprintf(path, sizeof path, "%s/tawon-file", directory);
    snprintf(renamed, sizeof renamed, "%s/tawon-renamed", directory);
    int fd = openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    write(fd, "hello\n", 6);
    pwrite(fd, "tawon", 5, 0);
    fsync(fd);
    struct stat status;
    fstat(fd, &status);
    lseek(fd, 0, SEEK_SET);
    close(fd);
    rename(path, renamed);
    access(renamed, R_OK | W_OK);
    chmod(renamed, 0600);
    truncate(renamed, 3);
    mkdir(path, 0755);
    rmdir(path);
    unlink(renamed);
    void *memory = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(memory, 4096, PROT_READ);
    munmap(memory, 4096);
    char cwd[256];
    syscall(SYS_getcwd, cwd, sizeof cwd);
    chdir(directory);
    struct utsname name;
    uname(&name);
    kill(getpid(), 0);
    syscall(SYS_getppid);
    umask(022);
    int pipes[2];
    pipe2(pipes, O_CLOEXEC);
    write(pipes[1], "a\"b\\c\n\x01", 7);
    dup(pipes[0]);
}

/* Sets the effective set to `effective` (low 32 capabilities), keeping permitted as it is. */
static void set_effective(unsigned int effective)
{
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) exit(3);
    data[0].effective = effective;
    data[1].effective = 0;
    if (syscall(SYS_capset, &header, data) != 0) exit(4);
}

static void capability_moment(void)
{
    syscall(SYS_getppid);
    set_effective(1u << CAP_NET_RAW);
    int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    set_effective(0);
    int plain = socket(AF_INET, SOCK_DGRAM, 0);
    syscall(SYS_getppid);
    close(raw);
    close(plain);
}

static void execer(long count, const char *path)
{
    for (long i = 0; i < count; i++) {
        pid_t child = fork();
        if (child == 0) {
            execl(path, path, (char *)NULL);
            _exit(127);
        }
        waitpid(child, NULL, 0);
    }
}

static void fork_then_exec(long count)
{
    for (long i = 0; i < count; i++) {
        if (fork() == 0) {
            write(1, "c", 1);
            write(1, "c", 1);
            syscall(SYS_getppid);
            execl("/bin/sleep", "sleep", "1", (char *)NULL);
            _exit(127);
        }
    }
    while (wait(NULL) > 0) {
    }
}

#define PINNED_LEAD 4000

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

/* With sleep_every, the caller blocks in a short clock_nanosleep after every sleep_every calls. */
static void pinned_in_step(long count, const char *path, int slot, long sleep_every)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) exit(4);
    long *progress = mmap(NULL, 2 * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (progress == MAP_FAILED) exit(5);
    long *mine = &progress[slot], *partner = &progress[1 - slot];
    // A partner that never comes (its test failed) holds us back 30 s at most.
    double give_up = seconds_now() + 30;
    for (long i = 0; i < count; i++) {
        syscall(SYS_getppid);
        if (sleep_every > 0 && i % sleep_every == sleep_every - 1) {
            struct timespec nap = {0, 200000};
            clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL);
        }
        if (i % 1000 != 999) continue;
        __atomic_store_n(mine, i + 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(partner, __ATOMIC_ACQUIRE) < i + 1 - PINNED_LEAD && seconds_now() < give_up)
            sched_yield();
    }
    __atomic_store_n(mine, count, __ATOMIC_RELEASE);
}

static int outliving_thread_waits;

static void *outlive_the_main_thread(void *count)
{
    usleep(50000); /* the main thread has ended by now */
    if (outliving_thread_waits) wait_for_go();
    for (long i = 0; i < (long)count; i++) syscall(SYS_getppid);
    syscall(SYS_exit_group, 7);
    return NULL;
}

static void leader_exit(long count)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, outlive_the_main_thread, (void *)count) != 0) exit(3);
    pthread_exit(NULL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *scenario = argc > 1 ? argv[1] : "write";
    if (strcmp(scenario, "capmoment") == 0) set_effective(0);
    if (strcmp(scenario, "pinned") == 0) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(argc > 2 ? atoi(argv[2]) : 0, &cpus);
        if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) exit(3);
    }
    wait_for_go();
    if (strcmp(scenario, "write") == 0) {
        write(1, "+", 1);
    } else if (strcmp(scenario, "net") == 0) {
        net();
    } else if (strcmp(scenario, "many") == 0) {
        many(argc > 2 ? argv[2] : "/tmp");
    } else if (strcmp(scenario, "capmoment") == 0) {
        capability_moment();
    } else if (strcmp(scenario, "execer") == 0) {
        execer(argc > 2 ? atol(argv[2]) : 1, argc > 3 ? argv[3] : "/bin/true");
    } else if (strcmp(scenario, "forkexec") == 0) {
        fork_then_exec(argc > 2 ? atol(argv[2]) : 1);
    } else if (strcmp(scenario, "rename") == 0) {
        prctl(PR_SET_NAME, argc > 2 ? argv[2] : "renamed", 0, 0, 0);
        syscall(SYS_getppid);
    } else if (strcmp(scenario, "paced") == 0) {
        long count = argc > 2 ? atol(argv[2]) : 1;
        for (long i = 0; i < count; i++) {
            syscall(SYS_getppid);
            if (i % 100 == 99) usleep(1000);
        }
    } else if (strcmp(scenario, "pinned") == 0) {
        if (argc < 6) exit(2);
        pinned_in_step(atol(argv[3]), argv[4], atoi(argv[5]), argc > 6 ? atol(argv[6]) : 0);
    } else if (strcmp(scenario, "leaderexit") == 0) {
        outliving_thread_waits = argc > 3 && strcmp(argv[3], "wait") == 0;
        leader_exit(argc > 2 ? atol(argv[2]) : 1);
    } else if (strcmp(scenario, "getppid") == 0) {
        long count = argc > 2 ? atol(argv[2]) : 1;
        for (long i = 0; i < count; i++) syscall(SYS_getppid);
    } else if (strcmp(scenario, "halves") == 0) {
        long count = argc > 2 ? atol(argv[2]) : 1;
        for (long i = 0; i < count; i++) syscall(SYS_getppid);
        printf("half\n");
        wait_for_go();
        for (long i = 0; i < count; i++) syscall(SYS_getppid);
    }
    return 0;
}
