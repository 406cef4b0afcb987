#include "polkit-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t agent_pid;

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        kill(agent_pid, SIGTERM);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}

void polkit_agent_open(void) {
        static bool registered_exit;
        int fds[2];

        if (agent_pid > 0 || geteuid() == 0 || !isatty(STDIN_FILENO))
                return;
        /* The agent closes its end of this pipe once polkitd has it: then the call may go. */
        if (pipe2(fds, 0) < 0)
                return;
        (void) fcntl(fds[0], F_SETFD, FD_CLOEXEC);

        pid_t pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                char notify[16];
                /* Not left behind when winvmctl is killed; pkttyagent serves its parent. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                snprintf(notify, sizeof(notify), "%d", fds[1]);
                execlp("pkttyagent", "pkttyagent", "--notify-fd", notify, "--fallback", (char *) NULL);
                _exit(127);
        }
        close(fds[1]);
        agent_pid = pid;
        if (!registered_exit) {
                atexit(polkit_agent_close);
                registered_exit = true;
        }
        char c;
        while (read(fds[0], &c, 1) < 0 && errno == EINTR)
                ;
        close(fds[0]);
}
