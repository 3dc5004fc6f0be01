/* directory.h — the referral network's service directory: for each
 * organisation, the services it offers (the assistance types of the referral
 * picklists), regions covered, languages, capacity, availability and contact
 * point, searched by service, region, country and language — partner
 * organisations in other countries included.
 *
 * An entry is a record (kind "directory", org = the organisation).  Everyone
 * with RES_DIRECTORY read searches it; an entry is written by a system
 * administrator or coordinator for any organisation, or by an organisation
 * administrator for their own (RES_DIRECTORY create/update). */
#ifndef AMPARO_DIRECTORY_H
#define AMPARO_DIRECTORY_H

#include "core/core.h"

/** Lists entries.  Parameters: service, region, country, language (each one
 *  value), available (true: availability not Unavailable), emergency (true:
 *  accepts emergencies), limit, offset.  *out = {"items", "total", "limit",
 *  "offset"}, each item the entry with the organisation's name, type, country
 *  and region. */
amp_code directory_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err);

/** The entry of organisation `org` (*out a new object). */
amp_code directory_get(core *c, const principal *p, const char *org, json_t **out, amp_err *err);

/** Creates or replaces the entry of `org` (an existing organisation).  With a
 *  version (if_match > 0 or body "version") the write happens only if the entry
 *  is still at that version.  *out: the entry as directory_get answers it;
 *  *created: true when there was none. */
amp_code directory_put(core *c, const principal *p, const char *org, const json_t *body,
                       int64_t if_match, json_t **out, bool *created, amp_err *err);

/** The services `org` lists (a new array; empty when it has no entry). */
json_t *directory_services(core *c, const char *org);

#endif
