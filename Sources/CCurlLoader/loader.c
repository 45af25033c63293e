#define _GNU_SOURCE
#include "CCurlLoader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static struct {
    CURLcode (*global_init)(long);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int, int *);
    CURLMcode (*multi_wakeup)(CURLM *);
    const char *(*multi_strerror)(CURLMcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_error = NULL;
static char load_message[512];

#define BIND(field, symbol)                                                              \
    do {                                                                                 \
        *(void **)(&api.field) = dlsym(lib, symbol);                                     \
        if (api.field == NULL) {                                                         \
            snprintf(load_message, sizeof load_message,                                  \
                     "libcurl lacks %s: install libcurl4 7.68 or newer", symbol);        \
            load_error = load_message;                                                   \
            return;                                                                      \
        }                                                                                \
    } while (0)

static void load(void) {
    // Lazy: the functions of libcurl's dependencies (Kerberos, LDAP, RTMP, ...) that a
    // request never calls are never bound; libcurl's own entry points are found below.
    void *lib = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL);
    if (lib == NULL) lib = dlopen("libcurl.so", RTLD_LAZY | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(load_message, sizeof load_message,
                 "cannot load libcurl (%s): install it with `apt-get install libcurl4`", dlerror());
        load_error = load_message;
        return;
    }
    BIND(global_init, "curl_global_init");
    BIND(easy_setopt, "curl_easy_setopt");
    BIND(easy_getinfo, "curl_easy_getinfo");
    BIND(easy_init, "curl_easy_init");
    BIND(easy_cleanup, "curl_easy_cleanup");
    BIND(easy_reset, "curl_easy_reset");
    BIND(easy_strerror, "curl_easy_strerror");
    BIND(multi_init, "curl_multi_init");
    BIND(multi_add_handle, "curl_multi_add_handle");
    BIND(multi_remove_handle, "curl_multi_remove_handle");
    BIND(multi_cleanup, "curl_multi_cleanup");
    BIND(multi_info_read, "curl_multi_info_read");
    BIND(multi_perform, "curl_multi_perform");
    BIND(multi_poll, "curl_multi_poll");
    BIND(multi_wakeup, "curl_multi_wakeup");
    BIND(multi_strerror, "curl_multi_strerror");
    BIND(slist_append, "curl_slist_append");
    BIND(slist_free_all, "curl_slist_free_all");
}

const char *fs_curl_load(void) {
    pthread_once(&once, load);
    return load_error;
}

static void *load_thread(void *unused) {
    (void)unused;
    pthread_once(&once, load);
    return NULL;
}

void fs_curl_load_in_background(void) {
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
#ifdef __linux__
    // On a processor other than this one: the scheduler would often queue a new thread
    // behind its creator, which goes on parsing arguments, and start it only when the
    // creator's time slice ends (2 ms later, one run in two, on a 2-core machine).
    int here = sched_getcpu();
    cpu_set_t others;
    if (here >= 0 && sched_getaffinity(0, sizeof others, &others) == 0 && CPU_ISSET(here, &others)) {
        CPU_CLR(here, &others);
        if (CPU_COUNT(&others) > 0) (void)pthread_attr_setaffinity_np(&attr, sizeof others, &others);
    }
#endif
    // No thread: the first request loads libcurl itself, as without this call.
    (void)pthread_create(&thread, &attr, load_thread, NULL);
    pthread_attr_destroy(&attr);
}

CURLcode fs_global_init(void) { return api.global_init(CURL_GLOBAL_DEFAULT); }
CURLcode fs_setopt_long(CURL *h, CURLoption o, long v) { return api.easy_setopt(h, o, v); }
CURLcode fs_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return api.easy_setopt(h, o, v); }
CURLcode fs_setopt_string(CURL *h, CURLoption o, const char *v) { return api.easy_setopt(h, o, v); }
CURLcode fs_setopt_pointer(CURL *h, CURLoption o, void *v) { return api.easy_setopt(h, o, v); }
CURLcode fs_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return api.easy_setopt(h, o, v); }
CURLcode fs_setopt_data_callback(CURL *h, CURLoption o, fs_data_callback cb) { return api.easy_setopt(h, o, cb); }
CURLcode fs_setopt_xferinfo_callback(CURL *h, fs_xferinfo_callback cb) {
    return api.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb);
}
CURLcode fs_getinfo_long(CURL *h, CURLINFO i, long *v) { return api.easy_getinfo(h, i, v); }
CURL *fs_easy_init(void) { return api.easy_init(); }
void fs_easy_cleanup(CURL *h) { api.easy_cleanup(h); }
void fs_easy_reset(CURL *h) { api.easy_reset(h); }
const char *fs_easy_strerror(CURLcode c) { return api.easy_strerror(c); }
CURLM *fs_multi_init(void) { return api.multi_init(); }
CURLMcode fs_multi_add_handle(CURLM *m, CURL *h) { return api.multi_add_handle(m, h); }
CURLMcode fs_multi_remove_handle(CURLM *m, CURL *h) { return api.multi_remove_handle(m, h); }
CURLMcode fs_multi_cleanup(CURLM *m) { return api.multi_cleanup(m); }
CURLMsg *fs_multi_info_read(CURLM *m, int *left) { return api.multi_info_read(m, left); }
CURLMcode fs_multi_perform(CURLM *m, int *running) { return api.multi_perform(m, running); }
CURLMcode fs_multi_poll(CURLM *m, struct curl_waitfd extra[], unsigned int n, int ms, int *fds) {
    return api.multi_poll(m, extra, n, ms, fds);
}
CURLMcode fs_multi_wakeup(CURLM *m) { return api.multi_wakeup(m); }
const char *fs_multi_strerror(CURLMcode c) { return api.multi_strerror(c); }
struct curl_slist *fs_slist_append(struct curl_slist *l, const char *t) { return api.slist_append(l, t); }
void fs_slist_free_all(struct curl_slist *l) { api.slist_free_all(l); }
