#ifndef FIELDSYNC_CCURL_LOADER_H
#define FIELDSYNC_CCURL_LOADER_H

#include <curl/curl.h>

/*
 * libcurl, bound at run time. Loading libcurl and its dependency chain (OpenSSL, GSSAPI,
 * LDAP, ...) costs about 9 ms at every process start (MEASURED.md), and most fieldsync
 * commands work offline and never touch the network. So fieldsync does not link libcurl:
 * the first HTTP request dlopen()s libcurl.so.4 and binds these entry points.
 *
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call; the typed
 * fs_setopt_* wrappers give Swift one entry point per argument type (the way GRDB's shim
 * wraps sqlite3_config).
 */

/** Loads libcurl once (thread-safe). Returns NULL on success, else what went wrong. */
const char *fs_curl_load(void);

/**
 * Starts loading libcurl on a detached thread of its own and returns at once; the first
 * fs_curl_load() waits for it to finish. For a command that will use the network: the
 * load (about 6 ms, mostly the dynamic linker binding libcurl's dependency chain) then runs
 * on another core while the command parses its arguments and opens its store: the thread
 * may run on any processor but the caller's, so it starts at once instead of waiting for
 * the caller's time slice to end. Only the
 * loading happens there: curl_global_init stays with the first request, on the thread
 * that makes it, so a process that exits early never races libcurl's initialisation
 * (exit waits for a dlopen in progress: glibc holds its loader lock for both).
 */
void fs_curl_load_in_background(void);

typedef size_t (*fs_data_callback)(char *data, size_t size, size_t count, void *userdata);
typedef int (*fs_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                    curl_off_t ultotal, curl_off_t ulnow);

CURLcode fs_global_init(void);
CURLcode fs_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode fs_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode fs_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode fs_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode fs_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode fs_setopt_data_callback(CURL *handle, CURLoption option, fs_data_callback callback);
CURLcode fs_setopt_xferinfo_callback(CURL *handle, fs_xferinfo_callback callback);
CURLcode fs_getinfo_long(CURL *handle, CURLINFO info, long *value);

CURL *fs_easy_init(void);
void fs_easy_cleanup(CURL *handle);
void fs_easy_reset(CURL *handle);
const char *fs_easy_strerror(CURLcode code);
CURLM *fs_multi_init(void);
CURLMcode fs_multi_add_handle(CURLM *multi, CURL *handle);
CURLMcode fs_multi_remove_handle(CURLM *multi, CURL *handle);
CURLMcode fs_multi_cleanup(CURLM *multi);
CURLMsg *fs_multi_info_read(CURLM *multi, int *left);
CURLMcode fs_multi_perform(CURLM *multi, int *running);
CURLMcode fs_multi_poll(CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeout_ms, int *numfds);
CURLMcode fs_multi_wakeup(CURLM *multi);
const char *fs_multi_strerror(CURLMcode code);
struct curl_slist *fs_slist_append(struct curl_slist *list, const char *text);
void fs_slist_free_all(struct curl_slist *list);

#endif
