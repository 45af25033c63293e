#include "FieldSyncLaunch.h"

#include <sqlite3.h>
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
    /*
     * SQLite without its own locks, before anything opens a connection (sqlite3_config
     * only works then): GRDB uses each connection from one thread at a time, and so do
     * the store's checkpointer and row readers, so SQLite's serialized mode only added a
     * mutex lock and unlock to every call (590,000 in a first sync of 5,000 orders, 3% of
     * its instructions), and its allocation statistics one more to every allocation.
     */
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (argc < 2 || argv == NULL || argv[1] == NULL) return;
    for (const char *const *command = online_commands; *command != NULL; command++) {
        if (strcmp(argv[1], *command) == 0) {
            fs_curl_load_in_background();
            return;
        }
    }
}
