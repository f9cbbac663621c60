/*
 * The Pod sandbox process for the local cluster: it holds the Pod's namespaces open and does nothing else.
 * As PID 1 of a Pod with shareProcessNamespace it also becomes the parent of orphaned processes, so it must
 * reap them, or they would pile up as zombies. PID 1 gets no default signal actions from the kernel, so
 * SIGTERM/SIGINT need explicit handlers for the kubelet's stop to end it promptly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
    (void)sig;
    _exit(0);
}

static void on_child(int sig) {
    int saved = errno; /* a handler must not disturb the interrupted code's errno */
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

static int handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        puts("sidecar-lab pause 1.0");
        return 0;
    }
    if (getpid() != 1) {
        fputs("pause: warning: not running as PID 1, so orphaned processes will not be reaped here\n", stderr);
    }
    if (handle(SIGINT, on_stop, 0) || handle(SIGTERM, on_stop, 0) ||
        handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART)) {
        perror("pause: sigaction");
        return 1;
    }
    for (;;) {
        pause();
    }
}
