/*
 * The mixed workload: open, read, write and close of one file, N/4 times (N syscalls), after a
 * line on stdin when a second argument is given. Prints the mean nanoseconds per syscall.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 1000000;
    char line[16];
    if (argc > 2 && !fgets(line, sizeof line, stdin)) return 2;
    char path[] = "/tmp/tawon-mixed-XXXXXX";
    int made = mkstemp(path);
    if (made < 0) return 3;
    write(made, "tawon mixed workload\n", 21);
    close(made);
    char buffer[64];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count / 4; i++) {
        int fd = open(path, O_RDWR);
        read(fd, buffer, sizeof buffer);
        write(fd, "x", 1);
        close(fd);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    unlink(path);
    double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("%.1f\n", ns / (count / 4 * 4));
    return 0;
}
