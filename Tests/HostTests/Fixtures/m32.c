/*
 * Built with -m32: calls a 32-bit process makes that an x86_64 one cannot, and calls that
 * 32-bit glibc makes through socketcall and ipc. Waits for a line on stdin first.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    char line[8];
    if (read(0, line, sizeof line) <= 0)
        return 1;
    mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    getuid();
    geteuid();
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(9)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(fd, (struct sockaddr *)&address, sizeof address);
    send(fd, "ping", 4, 0);
    close(fd);
    int segment = shmget(IPC_PRIVATE, 4096, 0600);
    shmctl(segment, IPC_RMID, NULL);
    int file = open("/etc/hostname", O_RDONLY);
    lseek64(file, 1, SEEK_SET);
    fcntl(file, F_GETFD);
    close(file);
    write(1, "+", 1);
    return 0;
}
