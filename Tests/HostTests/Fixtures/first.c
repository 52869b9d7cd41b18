/* The exec target of the first-syscall test: its first syscalls come from the dynamic loader. */
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    return syscall(SYS_getppid) > 0 ? 0 : 1;
}
