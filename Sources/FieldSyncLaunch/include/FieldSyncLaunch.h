#ifndef FIELDSYNC_LAUNCH_H
#define FIELDSYNC_LAUNCH_H

/*
 * What `fieldsync` does before its Swift code runs: a command that talks to the server
 * (its first argument `sync`, `login` or `dispatch`) has libcurl start loading on another
 * processor from the process's first instructions (an ELF constructor, before the Swift
 * runtime and the argument parser), through fs_curl_load_in_background() (CCurlLoader.h);
 * and every command's SQLite runs without its own locks (multi-thread mode, no allocation
 * statistics), set before any connection opens.
 * Nothing to call from Swift: the executable links this target for its constructor.
 */

#endif
