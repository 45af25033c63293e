#include "FieldSyncLaunch.h"

#include <string.h>

#include "CCurlLoader.h"

/* The commands that always talk to the server; NULL-terminated. */
static const char *const online_commands[] = {"sync", "login", "dispatch", NULL};

/*
 * glibc (and Darwin's dyld) call each constructor with the program's arguments, as main
 * gets them. Starting here rather than in Swift's main starts the load about 0.9 ms
 * sooner (the Swift runtime's start-up comes before main), and loading libcurl is what a
 * `sync` with nothing new waits for.
 */
__attribute__((constructor)) static void fs_launch(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 2 || argv == NULL || argv[1] == NULL) return;
    for (const char *const *command = online_commands; *command != NULL; command++) {
        if (strcmp(argv[1], *command) == 0) {
            fs_curl_load_in_background();
            return;
        }
    }
}
