/* trainings.c — trainings and awareness events and their figures (see
 * trainings.h). */
#include "core/trainings.h"
#include "core/care_common.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KIND_TRAINING "training"

static const care_field participant_fields[] = {
    {"name", CF_STRING, CF_REQ, NULL, 0, 200, NULL},
    {"organisation", CF_ORG, 0, NULL, 0, 0, NULL},
    {"organisation_name", CF_STRING, 0, NULL, 0, 200, NULL},
    {"org_type", CF_PICK, 0, "participant_org_types", 0, 0, NULL},
    {"position", CF_STRING, 0, NULL, 0, 200, NULL},
    {"sex", CF_PICK, 0, "participant_sexes", 0, 0, NULL},
    {"email", CF_STRING, 0, NULL, 0, 200, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const care_field training_fields[] = {
    {"type", CF_PICK, CF_REQ, "event_types", 0, 0, NULL},
    {"title", CF_STRING, CF_REQ, NULL, 0, 300, NULL},
    {"start_date", CF_DATE, CF_REQ, NULL, 0, 0, NULL},
    {"end_date", CF_DATE, 0, NULL, 0, 0, NULL},
    {"country", CF_COUNTRY, 0, NULL, 0, 0, NULL},
    {"province", CF_STRING, 0, NULL, 0, 100, NULL},
    {"city", CF_STRING, 0, NULL, 0, 100, NULL},
    {"venue", CF_STRING, 0, NULL, 0, 200, NULL},
    {"organiser_org", CF_ORG, 0, NULL, 0, 0, NULL},
    {"partner_orgs", CF_ORGS, 0, NULL, 0, 32, NULL},
    {"programme", CF_STRING, 0, NULL, 0, 200, NULL},
    {"audiences", CF_MULTI, 0, "audiences", 0, 32, NULL},
    {"topics", CF_MULTI, 0, "topics", 0, 32, NULL},
    {"participants", CF_INT, 0, NULL, 0, 1000000, NULL},
    {"participants_by_sex", CF_COUNTS, 0, "participant_sexes", 0, 0, NULL},
    {"participants_by_org_type", CF_COUNTS, 0, "participant_org_types", 0, 0, NULL},
    {"named_participants", CF_OBJECTS, CF_IDENTITY, NULL, 0, 1000, participant_fields},
    {"notes", CF_TEXT, CF_IDENTITY, NULL, 0, 4000, NULL},
    {"officials", CF_INT, CF_SERVER, NULL, 0, 0, NULL},
    {NULL, 0, 0, NULL, 0, 0, NULL},
};

static const char *dstr(const json_t *doc, const char *key)
{
    return json_string_value(json_object_get(doc, key));
}

static json_int_t sum_counts(const json_t *obj, bool *any)
{
    json_int_t t = 0;
    const char *k;
    json_t *v;
    *any = false;
    json_object_foreach ((json_t *)obj, k, v) {
        if (json_is_integer(v)) {
            t += json_integer_value(v);
            *any = true;
        }
    }
    return t;
}

static bool counts_as_training(const char *type)
{
    return type && (strcmp(type, "Training") == 0 || strcmp(type, "Workshop") == 0);
}

long trainings_officials(const json_t *doc)
{
    if (!counts_as_training(dstr(doc, "type")))
        return 0;
    long n = 0;
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get(doc, "participants_by_org_type"), k, v) {
        if (json_is_true(
                json_object_get(care_picklist_value("participant_org_types", k), "official")) &&
            json_is_integer(v))
            n += (long)json_integer_value(v);
    }
    return n;
}

static void training_check(care_op *op, const json_t *doc, const json_t *before)
{
    const principal *p = &op->p;
    (void)before;
    const char *start = dstr(doc, "start_date"), *end = dstr(doc, "end_date");
    if (start && end && strcmp(end, start) < 0)
        care_field_error(&op->err, p, "end_date", "date_order", "start_date");
    bool any_sex, any_type;
    json_int_t by_sex = sum_counts(json_object_get(doc, "participants_by_sex"), &any_sex);
    json_int_t by_type = sum_counts(json_object_get(doc, "participants_by_org_type"), &any_type);
    const json_t *total = json_object_get(doc, "participants");
    json_int_t t = json_is_integer(total) ? json_integer_value(total) : any_sex ? by_sex : by_type;
    char d[32];
    if (any_sex && by_sex != t) {
        snprintf(d, sizeof d, "%lld", (long long)by_sex);
        care_field_error(&op->err, p, "participants_by_sex", "participant_totals", d);
    }
    if (any_type && by_type != t) {
        snprintf(d, sizeof d, "%lld", (long long)by_type);
        care_field_error(&op->err, p, "participants_by_org_type", "participant_totals", d);
    }
    size_t named = json_array_size(json_object_get(doc, "named_participants"));
    if (named > (size_t)t && (json_is_integer(total) || any_sex || any_type)) {
        snprintf(d, sizeof d, "%lld", (long long)t);
        care_field_error(&op->err, p, "named_participants", "max_items", d);
    }
}

static void training_derive(care_op *op, json_t *doc, store_record *r)
{
    (void)op;
    if (!json_is_integer(json_object_get(doc, "participants"))) {
        bool any_sex, any_type,
            any_named = json_array_size(json_object_get(doc, "named_participants")) > 0;
        json_int_t by_sex = sum_counts(json_object_get(doc, "participants_by_sex"), &any_sex);
        json_int_t by_type =
            sum_counts(json_object_get(doc, "participants_by_org_type"), &any_type);
        json_int_t t = any_sex    ? by_sex
                       : any_type ? by_type
                       : any_named
                           ? (json_int_t)json_array_size(json_object_get(doc, "named_participants"))
                           : 0;
        json_object_set_new(doc, "participants", json_integer(t));
    }
    json_object_set_new(doc, "officials", json_integer(trainings_officials(doc)));
    snprintf(r->status, sizeof r->status, "%s", dstr(doc, "type"));
    snprintf(r->due, sizeof r->due, "%s", dstr(doc, "start_date"));
}

static const care_entity training_entity = {
    KIND_TRAINING,  "training",      RES_TRAINING,    training_fields,
    training_check, training_derive, "organiser_org",
};

amp_code trainings_create(core *c, const principal *p, const json_t *body, core_done_fn done,
                          void *arg, amp_err *err)
{
    return care_org_create(c, p, &training_entity, body, done, arg, err);
}

amp_code trainings_update(core *c, const principal *p, const char *id, const json_t *patch,
                          int64_t if_match, core_done_fn done, void *arg, amp_err *err)
{
    return care_org_update(c, p, &training_entity, id, patch, if_match, done, arg, err);
}

amp_code trainings_delete(core *c, const principal *p, const char *id, int64_t if_match,
                          core_done_fn done, void *arg, amp_err *err)
{
    return care_org_delete(c, p, &training_entity, id, if_match, done, arg, err);
}

amp_code trainings_get(core *c, const principal *p, const char *id, json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_TRAINING, err);
    if (code != AMP_OK)
        return code;
    store_record r;
    if ((code = care_get(c, KIND_TRAINING, "training", id, &r, err)) != AMP_OK)
        return code;
    *out = care_record_json(p, training_fields, &r);
    store_record_release(&r);
    return AMP_OK;
}

static const char *const filters[] = {"type", "country", "province", "city",   "audience", "topic",
                                      "org",  "from",    "to",       "period", NULL};
static const char *const filter_dates[] = {"from", "to", NULL};

static bool has_value(const json_t *arr, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
            return true;
    }
    return false;
}

/* The events matching the filters, newest first: a new array of documents
 * with "id" (for lists: records as users see them). */
static amp_code matching(core *c, const principal *p, const list_param *params, size_t n,
                         bool records, json_t **out, amp_err *err)
{
    const char *type = care_param(params, n, "type"), *aud = care_param(params, n, "audience");
    const char *topic = care_param(params, n, "topic");
    if (type && !care_picklist_has("event_types", type))
        care_field_error(err, p, "type", "picklist", type);
    if (aud && !care_picklist_has("audiences", aud))
        care_field_error(err, p, "audience", "picklist", aud);
    if (topic && !care_picklist_has("topics", topic))
        care_field_error(err, p, "topic", "picklist", topic);
    if (json_array_size(err->fields))
        return amp_err_set(err, AMP_EBADREQ, "the list parameters are not valid");
    char today[11];
    clock_today(today);
    care_period per = {"", "", ""};
    const char *from = care_param(params, n, "from"), *to = care_param(params, n, "to");
    if (care_param(params, n, "period")) {
        amp_code code = care_period_from_params(p, params, n, today, &per, err);
        if (code != AMP_OK)
            return code;
        from = per.from;
        to = per.to;
    }
    store_record_query q = {.kind = KIND_TRAINING,
                            .org = care_param(params, n, "org"),
                            .status = type,
                            .due_from = from,
                            .due_to = to,
                            .by_due = true,
                            .descending = true};
    store_record *rows;
    int nr;
    amp_code code = care_scan(c, &q, &rows, &nr, err);
    if (code != AMP_OK)
        return code;
    *out = json_array();
    static const char *const place[] = {"country", "province", "city"};
    for (int i = 0; i < nr; i++) {
        const json_t *d = rows[i].doc;
        bool keep = true;
        for (int k = 0; k < 3 && keep; k++) {
            const char *want = care_param(params, n, place[k]);
            keep = !want || (dstr(d, place[k]) && strcasecmp(dstr(d, place[k]), want) == 0);
        }
        keep = keep && (!aud || has_value(json_object_get(d, "audiences"), aud));
        keep = keep && (!topic || has_value(json_object_get(d, "topics"), topic));
        if (!keep)
            continue;
        json_array_append_new(*out, records ? care_record_json(p, training_fields, &rows[i])
                                            : json_deep_copy(d));
    }
    care_rows_free(rows, nr);
    return AMP_OK;
}

amp_code trainings_list(core *c, const principal *p, const list_param *params, size_t n,
                        json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_TRAINING, err);
    if (code != AMP_OK)
        return code;
    int limit, offset;
    if ((code = care_params_check(p, params, n, filters, filter_dates, &limit, &offset, err)) !=
        AMP_OK)
        return code;
    json_t *items = NULL;
    if ((code = matching(c, p, params, n, true, &items, err)) != AMP_OK)
        return code;
    *out = care_page(items, limit, offset);
    return AMP_OK;
}

static void add(json_t *obj, const char *key, json_int_t by)
{
    if (!key)
        return;
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer((v ? json_integer_value(v) : 0) + by));
}

amp_code trainings_stats(core *c, const principal *p, const list_param *params, size_t n,
                         json_t **out, amp_err *err)
{
    amp_code code = authz_require(p, ACT_READ, RES_TRAINING, err);
    if (code != AMP_OK)
        return code;
    if ((code = care_params_check(p, params, n, filters, filter_dates, NULL, NULL, err)) != AMP_OK)
        return code;
    json_t *events = NULL;
    if ((code = matching(c, p, params, n, false, &events, err)) != AMP_OK)
        return code;
    json_int_t participants = 0, officials = 0, trained = 0;
    json_t *by_type = json_object(), *by_sex = json_object(), *by_org = json_object(),
           *by_city = json_object(), *by_prov = json_object(), *by_aud = json_object(),
           *by_topic = json_object();
    size_t i;
    json_t *d;
    json_array_foreach (events, i, d) {
        json_int_t np = json_integer_value(json_object_get(d, "participants"));
        participants += np;
        add(by_type, dstr(d, "type"), 1);
        if (counts_as_training(dstr(d, "type")))
            trained += np;
        officials += trainings_officials(d);
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(d, "participants_by_sex"), k, v)
            add(by_sex, k, json_integer_value(v));
        json_object_foreach (json_object_get(d, "participants_by_org_type"), k, v)
            add(by_org, k, json_integer_value(v));
        add(by_city, dstr(d, "city"), np);
        add(by_prov, dstr(d, "province"), np);
        size_t j;
        json_array_foreach (json_object_get(d, "audiences"), j, v)
            add(by_aud, json_string_value(v), 1);
        json_array_foreach (json_object_get(d, "topics"), j, v)
            add(by_topic, json_string_value(v), 1);
    }
    *out = json_pack("{s:I, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "events",
                     (json_int_t)json_array_size(events), "events_by_type", by_type, "participants",
                     participants, "people_trained", trained, "officials_trained", officials,
                     "participants_by_sex", by_sex, "participants_by_org_type", by_org,
                     "participants_by_city", by_city, "participants_by_province", by_prov,
                     "events_by_audience", by_aud, "events_by_topic", by_topic);
    json_decref(events);
    return AMP_OK;
}
