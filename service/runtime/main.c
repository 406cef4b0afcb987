/* winvmd: the privileged side of winvm. Parses the command line and configuration, then
 * hands over to the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon-setup.h"
#include "snapshot-ops.h"
#include "startup-phases.h"
#include "util.h"

#ifndef WINVM_VERSION
#define WINVM_VERSION "0"
#endif

static void help(void) {
        printf("Usage: winvmd [OPTIONS]\n\n"
               "The winvm system service: owns the VM lifecycle on the system bus, checked by polkit.\n\n"
               "  -c, --config PATH   configuration file (default " WINVM_DEFAULT_CONFIG ")\n"
               "      --check-config  validate the configuration and exit\n"
               "  -h, --help          show this help\n"
               "      --version       show the version\n");
}

int main(int argc, char **argv) {
        startup_phase_mark(STARTUP_MAIN);
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, 'C' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        const char *config_path = WINVM_DEFAULT_CONFIG;
        bool explicit_config = false, check_only = false;
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        explicit_config = true;
                        break;
                case 'C':
                        check_only = true;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("winvmd %s\n", WINVM_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (optind < argc) {
                fprintf(stderr, "winvmd takes no arguments\n");
                return EXIT_FAILURE;
        }

        WinvmConfig *config = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_(strv_freep) char **warnings = NULL;
        if (config_load(config_path, explicit_config, &config, &error, &warnings) < 0) {
                fprintf(stderr, "winvmd: %s\n", error);
                return EXIT_FAILURE;
        }
        startup_phase_mark(STARTUP_CONFIG);
        for (char **w = warnings; w && *w; w++)
                fprintf(stderr, "winvmd: warning: %s\n", *w);
        if (check_only) {
                config_free(config);
                return EXIT_SUCCESS;
        }

        /* A test hook: die by SIGKILL at a named step of a snapshot operation. */
        snapshot_crash_at = getenv("WINVMD_TEST_CRASH_AT");

        Daemon *d = NULL;
        int r = daemon_new(config, &d);
        if (r >= 0)
                r = daemon_run(d);
        daemon_free(d);
        config_free(config);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
