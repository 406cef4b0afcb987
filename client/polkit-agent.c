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
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        char notify[16];
        snprintf(notify, sizeof(notify), "%d", fds[1]);
        pid_t parent = getpid();

        pid_t pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                /* Not left behind when winvmctl is killed (also if it died before the prctl);
                 * pkttyagent serves its parent. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                        _exit(1);
                /* The write end alone goes to the agent. */
                if (fcntl(fds[1], F_SETFD, 0) < 0)
                        _exit(1);
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
