#pragma once
/* A polkit text agent for winvmctl at a terminal, the way systemctl starts one: without it, a
 * user outside winvm's group at a terminal with no graphical agent gets "requires
 * authentication" and never a password prompt. Main thread only. */

/* Starts pkttyagent for this process unless one runs already, the caller is root, stdin is
 * no terminal, or pkttyagent is missing; returns once it is registered with polkit, or
 * once it has failed to start (the call then goes without an agent).
 * --fallback: an agent the session already has (a desktop's) answers instead. */
void polkit_agent_open(void);

/* Stops it (also done at exit). */
void polkit_agent_close(void);
