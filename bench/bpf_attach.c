/* Loads a BPF object, attaches all its programs, says "attached" and waits for a signal. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void stop(int signal) { (void)signal; }

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bpf_attach OBJECT\n");
        return 2;
    }
    struct bpf_object *object = bpf_object__open_file(argv[1], NULL);
    if (!object || bpf_object__load(object)) {
        fprintf(stderr, "bpf_attach: cannot load %s\n", argv[1]);
        return 1;
    }
    struct bpf_program *program;
    bpf_object__for_each_program(program, object) {
        if (!bpf_program__attach(program)) {
            fprintf(stderr, "bpf_attach: cannot attach %s\n", bpf_program__name(program));
            return 1;
        }
    }
    signal(SIGINT, stop);
    signal(SIGTERM, stop);
    printf("attached\n");
    fflush(stdout);
    pause();
    bpf_object__close(object);
    return 0;
}
