/*
 * The throughput workload: getppid at RATE calls a second for SECONDS, after a line on stdin.
 * Prints the calls made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 100000, seconds = argc > 2 ? atof(argv[2]) : 10;
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 2;
    double start = now();
    long made = 0;
    while (now() - start < seconds) {
        long due = (long)((now() - start) * rate);
        while (made < due) {
            syscall(SYS_getppid);
            made++;
        }
        usleep(200);
    }
    printf("%ld\n", made);
    return 0;
}
