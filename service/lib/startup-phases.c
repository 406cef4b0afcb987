#include "startup-phases.h"

#include <time.h>

/* One start per process: a plain array, written and read on the main thread. */
static uint64_t phase_usec[_STARTUP_PHASE_MAX];

static const char *const phase_names[_STARTUP_PHASE_MAX] = {
        [STARTUP_MAIN] = "main",
        [STARTUP_CONFIG] = "config",
        [STARTUP_BUS_NAME] = "bus-name",
        [STARTUP_LIBVIRT] = "libvirt-connected",
        [STARTUP_STATES] = "states-known",
        [STARTUP_FIRST_CALL] = "first-call",
        [STARTUP_FIRST_VERDICT] = "first-verdict",
        [STARTUP_FIRST_REPLY] = "first-reply",
};

const char *startup_phase_name(StartupPhase p) {
        return p < _STARTUP_PHASE_MAX ? phase_names[p] : NULL;
}

uint64_t startup_phase_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

void startup_phase_mark_at(StartupPhase p, uint64_t usec) {
        if (p < _STARTUP_PHASE_MAX && phase_usec[p] == 0)
                phase_usec[p] = usec;
}

void startup_phase_mark(StartupPhase p) {
        if (p < _STARTUP_PHASE_MAX && phase_usec[p] == 0)
                phase_usec[p] = startup_phase_now();
}

uint64_t startup_phase_usec(StartupPhase p) {
        return p < _STARTUP_PHASE_MAX ? phase_usec[p] : 0;
}

int startup_phases_append(sd_bus_message *reply) {
        int r = sd_bus_message_open_container(reply, 'a', "(st)");
        for (StartupPhase p = 0; r >= 0 && p < _STARTUP_PHASE_MAX; p++)
                if (phase_usec[p] > 0)
                        r = sd_bus_message_append(reply, "(st)", phase_names[p], phase_usec[p]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}
