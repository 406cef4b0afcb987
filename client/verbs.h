/* winvmctl's commands in one table, which the help text, the dispatch and --list-verbs (what
 * the shell completions are tested against) all read. */
#pragma once

#include <stdio.h>
#include <systemd/sd-bus.h>

#include "client.h"

/* One entry of the help's "Commands:" list: what follows the verb, and what it does. A '\n'
 * in help continues the description on the next line. */
typedef struct VerbUsage {
        const char *synopsis;
        const char *help;
} VerbUsage;

typedef struct Verb {
        const char *name;
        /* The words that may follow the verb, NULL-terminated; NULL when none do. */
        const char *const *subverbs;
        /* How many arguments may follow it. */
        unsigned max_args;
        /* The help entries, ending with { NULL }. */
        const VerbUsage *usage;
        /* Checks the arguments and options before connecting to the bus, so that a mistake is
         * an exit 2 and never a password prompt: EXIT_OK, or EXIT_USAGE after saying why.
         * NULL: nothing to check. */
        int (*check)(const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
        /* Runs it: winvmctl's exit code. arg1 and arg2 are NULL when not given. */
        int (*run)(sd_bus *bus, const ClientOptions *o, const char *verb, const char *arg1, const char *arg2);
} Verb;

/* The verb of that name, or NULL. */
const Verb *verb_find(const char *name);

/* The "Commands:" entries of the help text, each synopsis padded to the column of the
 * descriptions. */
void verbs_print_help(FILE *f);

/* For the completion scripts and their test (winvmctl --list-verbs): a line per verb, the
 * verb and then its subverbs, separated by spaces. */
void verbs_print_list(FILE *f);
