#ifndef FIELDSYNC_CCURL_SHIM_H
#define FIELDSYNC_CCURL_SHIM_H
/*
 * libcurl's headers (package libcurl4-openssl-dev). There is deliberately no `link "curl"`
 * in the module map: CCurlLoader binds libcurl with dlopen on the first request, so the
 * fieldsync binary does not load libcurl and its dependency chain at every start.
 */
#include <curl/curl.h>
#endif
