/* Shared by winvmctl's command files. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#ifndef WINVM_BUS_NAME
#define WINVM_BUS_NAME "org.winvm1"
#endif

typedef struct ClientOptions {
        const char *vm;
        bool json;
        bool ask_password;
        uint32_t timeout;
        bool force;
        bool wait;
        bool readonly;
} ClientOptions;

/* Prints the error and returns winvmctl's exit code for it. */
int client_fail(sd_bus_error *error, int r);

/* Prints a JSON node (a JsonNode *) pretty and frees it. */
void client_print_json(void *json_node);

/* scrub-commands.c */
int cmd_scrub(sd_bus *bus, const ClientOptions *o, const char *action, const char *fs);
int cmd_jobs(sd_bus *bus, const ClientOptions *o);
int cmd_storage(sd_bus *bus, const ClientOptions *o);
