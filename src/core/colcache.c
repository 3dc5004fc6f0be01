/* colcache.c — the dictionary-encoded column cache of case dimensions (see colcache.h).
 *
 * Documents are read as text with a small scanner of the top-level members, so
 * a build over a million cases parses no JSON tree except for the few fields of
 * consent (consent_allows takes a document). */
#include "core/colcache.h"
#include "core/consent.h"
#include "store/store_reports.h"
#include "util/clock.h"
#include "util/log.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ==== columns ================================================================= */

static const struct {
    cc_kind kind;
    const char *field; /* catalogue field (entity case or event), "" when derived */
} col_defs[CC_NCOLS] = {
    [CC_YEAR] = {CCK_SINGLE, "amp_RegistrationDate"},
    [CC_MONTH] = {CCK_SINGLE, "amp_RegistrationDate"},
    [CC_GENDER] = {CCK_SINGLE, "prs_Gender"},
    [CC_CITIZENSHIP] = {CCK_MULTI, "prs_Citizenship"},
    [CC_COUNTRY_EXPL] = {CCK_MULTI, "hte_Country"},
    [CC_ORIGIN] = {CCK_MULTI, "hte_Country"},
    [CC_TRANSIT] = {CCK_MULTI, "hte_Country"},
    [CC_REGION_EXPL] = {CCK_SINGLE, "hte_State"},
    [CC_BORDER] = {CCK_SINGLE, ""},
    [CC_EXPLOITATION] = {CCK_MASK, "vic_TypeOfExploitation"},
    [CC_CONTROL] = {CCK_MASK, "vic_MethodsOfControl"},
    [CC_INDUSTRY] = {CCK_SINGLE, "vic_ForcedLabourIndustry"},
    [CC_SEXTYPE] = {CCK_MASK, "vic_TypeOfSexExploitation"},
    [CC_RECRUITMENT] = {CCK_MASK, "vic_MethodOfRecruitment"},
    [CC_RELATION] = {CCK_SINGLE, "vic_RelationshipToTrafficker"},
    [CC_TSTATUS] = {CCK_SINGLE, "vic_TraffickingStatus"},
    [CC_DECISION_ORG] = {CCK_SINGLE, "vic_TraffickingStatusDecisionMakingOrg"},
    [CC_CASE_STATUS] = {CCK_SINGLE, "cas_Status"},
    [CC_ORG] = {CCK_SINGLE, "amp_OwnerOrganisation"},
    [CC_REG_COUNTRY] = {CCK_SINGLE, "amp_RegistrationCountry"},
};

cc_kind colcache_kind(cc_col col)
{
    return col_defs[col].kind;
}

const char *colcache_field(cc_col col)
{
    return col_defs[col].field;
}

/* A dictionary: values by code-1, and an open-addressing hash of codes. */
typedef struct {
    char **vals;
    size_t n, cap;
    uint16_t *slots; /* code or 0 */
    size_t nslots;   /* power of two */
    bool fixed;      /* picklist: only catalogue values (masks) */
} dict;

typedef struct {
    dict d;
    uint16_t *single;
    uint64_t *mask;
    uint16_t (*multi)[CC_MULTI_MAX];
} column;

struct colcache {
    store *store;
    const catalogue *cat;
    pthread_rwlock_t lock;
    column cols[CC_NCOLS];
    size_t nrows, cap;
    uint8_t *flags;
    int32_t *regdate;
    int16_t *age_reg, *age_exp;
    int64_t *case_id;
    int32_t *row_of_id; /* case id -> row + 1 (0: none) */
    size_t nids;
    bool built;
    char built_day[11];
    int64_t watermark;
    colcache_stats stats;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void dict_release(dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->vals[i]);
    free(d->vals);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static uint16_t dict_find(const dict *d, const char *v)
{
    if (!d->nslots)
        return 0;
    size_t m = d->nslots - 1;
    for (size_t i = hash_str(v) & m;; i = (i + 1) & m) {
        uint16_t code = d->slots[i];
        if (!code)
            return 0;
        if (strcmp(d->vals[code - 1], v) == 0)
            return code;
    }
}

static bool dict_rehash(dict *d, size_t nslots)
{
    uint16_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    for (size_t c = 0; c < d->n; c++) {
        size_t i = hash_str(d->vals[c]) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint16_t)(c + 1);
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return true;
}

/* The code of v, adding it when new (0 when full or out of memory). */
static uint16_t dict_intern(dict *d, const char *v)
{
    uint16_t code = dict_find(d, v);
    if (code || d->fixed || d->n >= 65535)
        return code;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **vals = realloc(d->vals, cap * sizeof *vals);
        if (!vals)
            return 0;
        d->vals = vals;
        d->cap = cap;
    }
    if ((d->n + 1) * 2 > d->nslots && !dict_rehash(d, d->nslots ? d->nslots * 2 : 64))
        return 0;
    char *copy = strdup(v);
    if (!copy)
        return 0;
    d->vals[d->n++] = copy;
    size_t m = d->nslots - 1;
    size_t i = hash_str(v) & m;
    while (d->slots[i])
        i = (i + 1) & m;
    d->slots[i] = (uint16_t)d->n;
    return (uint16_t)d->n;
}

/* ==== lifecycle ================================================================ */

colcache *colcache_new(store *s, const catalogue *cat)
{
    colcache *cc = calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->store = s;
    cc->cat = cat;
    pthread_rwlock_init(&cc->lock, NULL);
    for (int c = 0; c < CC_NCOLS; c++) {
        const char *entity = strncmp(col_defs[c].field, "hte_", 4) == 0 ? "event" : "case";
        const cat_field *f =
            col_defs[c].field[0] ? catalogue_field(cat, entity, col_defs[c].field) : NULL;
        /* picklists keep the catalogue's order; masks only its values */
        if (f && (f->type == FT_PICKLIST || f->type == FT_MULTISELECT)) {
            for (size_t i = 0; i < f->nvalues && i < 64; i++)
                dict_intern(&cc->cols[c].d, f->values[i]);
            cc->cols[c].d.fixed = col_defs[c].kind == CCK_MASK;
        }
    }
    dict_intern(&cc->cols[CC_BORDER].d, "Internal");
    dict_intern(&cc->cols[CC_BORDER].d, "CrossBorder");
    for (int m = 1; m <= 12; m++) {
        char v[3] = {(char)('0' + m / 10), (char)('0' + m % 10), 0};
        dict_intern(&cc->cols[CC_MONTH].d, v);
    }
    return cc;
}

static void rows_release(colcache *cc)
{
    for (int c = 0; c < CC_NCOLS; c++) {
        free(cc->cols[c].single);
        free(cc->cols[c].mask);
        free(cc->cols[c].multi);
        cc->cols[c].single = NULL;
        cc->cols[c].mask = NULL;
        cc->cols[c].multi = NULL;
    }
    free(cc->flags);
    free(cc->regdate);
    free(cc->age_reg);
    free(cc->age_exp);
    free(cc->case_id);
    free(cc->row_of_id);
    cc->flags = NULL;
    cc->regdate = NULL;
    cc->age_reg = cc->age_exp = NULL;
    cc->case_id = NULL;
    cc->row_of_id = NULL;
    cc->nrows = cc->cap = cc->nids = 0;
}

void colcache_free(colcache *cc)
{
    if (!cc)
        return;
    rows_release(cc);
    for (int c = 0; c < CC_NCOLS; c++)
        dict_release(&cc->cols[c].d);
    pthread_rwlock_destroy(&cc->lock);
    free(cc);
}

#define GROW(ptr, cap) ((ptr) = realloc((ptr), (cap) * sizeof *(ptr)))

static bool rows_reserve(colcache *cc, size_t need)
{
    if (need <= cc->cap)
        return true;
    size_t cap = cc->cap ? cc->cap : 1024;
    while (cap < need)
        cap *= 2;
    bool ok = GROW(cc->flags, cap) && GROW(cc->regdate, cap) && GROW(cc->age_reg, cap) &&
              GROW(cc->age_exp, cap) && GROW(cc->case_id, cap);
    for (int c = 0; ok && c < CC_NCOLS; c++) {
        column *col = &cc->cols[c];
        if (col_defs[c].kind == CCK_SINGLE)
            ok = GROW(col->single, cap) != NULL;
        else if (col_defs[c].kind == CCK_MASK)
            ok = GROW(col->mask, cap) != NULL;
        else
            ok = GROW(col->multi, cap) != NULL;
    }
    if (ok)
        cc->cap = cap;
    return ok;
}

static bool ids_reserve(colcache *cc, int64_t id)
{
    if (id < 0 || id > INT32_MAX)
        return false;
    if ((size_t)id < cc->nids)
        return true;
    size_t n = cc->nids ? cc->nids : 1024;
    while (n <= (size_t)id)
        n *= 2;
    int32_t *grown = realloc(cc->row_of_id, n * sizeof *grown);
    if (!grown)
        return false;
    memset(grown + cc->nids, 0, (n - cc->nids) * sizeof *grown);
    cc->row_of_id = grown;
    cc->nids = n;
    return true;
}

/* ==== a scanner of top-level members of compact JSON text ======================== */

typedef struct {
    const char *p, *end;
} jcur;

static void js_ws(jcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

/* Skips a string literal (the cursor on its opening quote): finds the closing
 * quote with memchr, counting the backslashes before each candidate. */
static bool js_skip_string(jcur *c)
{
    const char *p = c->p + 1;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(c->end - p));
        if (!q)
            return false;
        size_t bs = 0;
        while (q - bs > c->p + 1 && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs % 2 == 0) {
            c->p = q + 1;
            return true;
        }
        p = q + 1;
    }
}

/* Reads a string literal into out[n] (truncated; \u escapes outside ASCII become '?'). */
static bool js_string(jcur *c, char *out, size_t n)
{
    if (c->p >= c->end || *c->p != '"')
        return false;
    if (!out)
        return js_skip_string(c);
    c->p++;
    size_t k = 0;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                return false;
            char e = *c->p++;
            switch (e) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                if (c->end - c->p < 4)
                    return false;
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *c->p++;
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9'   ? h - '0'
                                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                                   : 0);
                }
                ch = v < 0x80 && v > 0 ? (char)v : '?';
                break;
            }
            default: ch = e;
            }
        }
        if (k + 1 < n)
            out[k++] = ch;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    if (n)
        out[k] = 0;
    return true;
}

static bool js_skip(jcur *c, int depth)
{
    js_ws(c);
    if (c->p >= c->end || depth > 32)
        return false;
    char ch = *c->p;
    if (ch == '"')
        return js_string(c, NULL, 0);
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        c->p++;
        js_ws(c);
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return true;
        }
        for (;;) {
            if (ch == '{') {
                js_ws(c);
                if (!js_string(c, NULL, 0))
                    return false;
                js_ws(c);
                if (c->p >= c->end || *c->p++ != ':')
                    return false;
            }
            if (!js_skip(c, depth + 1))
                return false;
            js_ws(c);
            if (c->p >= c->end)
                return false;
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p++ == close)
                return true;
            return false;
        }
    }
    while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' && *c->p != ' ')
        c->p++;
    return true;
}

/* What a case document holds of interest.  Strings are truncated copies. */
#define SV 80
#define MAXARR 24
typedef struct {
    char gender[SV], industry[SV], relation[SV], tstatus[SV], decision[SV], status[SV];
    char regdate[SV], regcountry[SV], owner[SV], birth[SV], bid[SV], cdate[SV], wdate[SV];
    char citizenship[MAXARR][SV];
    int ncitizenship;
    char *lists[5][MAXARR]; /* exploitation, control, sextype, recruitment, scope: pointers into
                               pool */
    int nlists[5];
    char pool[5][MAXARR][SV];
    double age_trafficked, age_registration;
    bool has_age_trafficked, has_age_registration;
    bool consent, withdrawn, guardian;
} case_facts;

enum { L_EXPLOIT, L_CONTROL, L_SEXTYPE, L_RECRUIT, L_SCOPE };

static bool js_string_array(jcur *c, char (*out)[SV], int *n)
{
    js_ws(c);
    if (c->p >= c->end || *c->p != '[')
        return js_skip(c, 0);
    c->p++;
    js_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return true;
    }
    for (;;) {
        js_ws(c);
        if (c->p < c->end && *c->p == '"') {
            char tmp[SV];
            if (!js_string(c, tmp, sizeof tmp))
                return false;
            if (*n < MAXARR)
                memcpy(out[(*n)++], tmp, SV);
        } else if (!js_skip(c, 1)) {
            return false;
        }
        js_ws(c);
        if (c->p >= c->end)
            return false;
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        return *c->p++ == ']';
    }
}

static bool js_number(jcur *c, double *out)
{
    js_ws(c);
    const char *start = c->p;
    if (!js_skip(c, 0))
        return false;
    char tmp[40];
    size_t n = (size_t)(c->p - start);
    if (n == 0 || n >= sizeof tmp || !((*start >= '0' && *start <= '9') || *start == '-'))
        return false;
    memcpy(tmp, start, n);
    tmp[n] = 0;
    char *endp;
    *out = strtod(tmp, &endp);
    return *endp == 0;
}

static bool js_bool(jcur *c)
{
    js_ws(c);
    bool t = c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0;
    js_skip(c, 0);
    return t;
}

/* Calls member(key, cursor at value) for each top-level member; member must
 * consume the value (or return false to have it skipped). */
typedef bool (*member_fn)(void *arg, const char *key, jcur *c);

static bool js_members(const char *text, size_t len, member_fn fn, void *arg)
{
    jcur c = {text, text + len};
    js_ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return false;
    c.p++;
    js_ws(&c);
    if (c.p < c.end && *c.p == '}')
        return true;
    for (;;) {
        char key[64];
        js_ws(&c);
        if (!js_string(&c, key, sizeof key))
            return false;
        js_ws(&c);
        if (c.p >= c.end || *c.p++ != ':')
            return false;
        js_ws(&c);
        if (!fn(arg, key, &c) && !js_skip(&c, 0))
            return false;
        js_ws(&c);
        if (c.p >= c.end)
            return false;
        if (*c.p == ',') {
            c.p++;
            continue;
        }
        return *c.p == '}';
    }
}

static bool case_member(void *arg, const char *k, jcur *c)
{
    case_facts *f = arg;
    char *s = NULL;
    int list = -1;
    switch (k[0]) {
    case 'p':
        if (strcmp(k, "prs_Gender") == 0)
            s = f->gender;
        else if (strcmp(k, "prs_Birthdate") == 0)
            s = f->birth;
        else if (strcmp(k, "prs_Citizenship") == 0)
            return js_string_array(c, f->citizenship, &f->ncitizenship);
        break;
    case 'v':
        if (strcmp(k, "vic_ForcedLabourIndustry") == 0)
            s = f->industry;
        else if (strcmp(k, "vic_RelationshipToTrafficker") == 0)
            s = f->relation;
        else if (strcmp(k, "vic_TraffickingStatus") == 0)
            s = f->tstatus;
        else if (strcmp(k, "vic_TraffickingStatusDecisionMakingOrg") == 0)
            s = f->decision;
        else if (strcmp(k, "vic_TypeOfExploitation") == 0)
            list = L_EXPLOIT;
        else if (strcmp(k, "vic_MethodsOfControl") == 0)
            list = L_CONTROL;
        else if (strcmp(k, "vic_TypeOfSexExploitation") == 0)
            list = L_SEXTYPE;
        else if (strcmp(k, "vic_MethodOfRecruitment") == 0)
            list = L_RECRUIT;
        else if (strcmp(k, "vic_AgeWhenTrafficked") == 0)
            return (f->has_age_trafficked = js_number(c, &f->age_trafficked)) || true;
        break;
    case 'c':
        if (strcmp(k, "cas_Status") == 0)
            s = f->status;
        else if (strcmp(k, "con_Consent") == 0)
            return (f->consent = js_bool(c)) || true;
        break;
    case 'a':
        if (strcmp(k, "amp_RegistrationDate") == 0)
            s = f->regdate;
        else if (strcmp(k, "amp_RegistrationCountry") == 0)
            s = f->regcountry;
        else if (strcmp(k, "amp_OwnerOrganisation") == 0)
            s = f->owner;
        else if (strcmp(k, "amp_BestInterestDecisionDate") == 0)
            s = f->bid;
        else if (strcmp(k, "amp_ConsentDate") == 0)
            s = f->cdate;
        else if (strcmp(k, "amp_ConsentWithdrawnDate") == 0)
            s = f->wdate;
        else if (strcmp(k, "amp_ConsentScope") == 0)
            list = L_SCOPE;
        else if (strcmp(k, "amp_ConsentWithdrawn") == 0)
            return (f->withdrawn = js_bool(c)) || true;
        else if (strcmp(k, "amp_GuardianConsent") == 0)
            return (f->guardian = js_bool(c)) || true;
        else if (strcmp(k, "amp_AgeAtRegistration") == 0)
            return (f->has_age_registration = js_number(c, &f->age_registration)) || true;
        break;
    }
    if (s) {
        if (c->p < c->end && *c->p == '"')
            return js_string(c, s, SV);
        return false;
    }
    if (list >= 0) {
        f->nlists[list] = 0;
        if (!js_string_array(c, f->pool[list], &f->nlists[list]))
            return false;
        for (int i = 0; i < f->nlists[list]; i++)
            f->lists[list][i] = f->pool[list][i];
        return true;
    }
    return false;
}

typedef struct {
    char type[SV], country[SV], state[SV];
} event_facts;

static bool event_member(void *arg, const char *k, jcur *c)
{
    event_facts *e = arg;
    char *s = strcmp(k, "hte_Type") == 0      ? e->type
              : strcmp(k, "hte_Country") == 0 ? e->country
              : strcmp(k, "hte_State") == 0   ? e->state
                                              : NULL;
    if (s && c->p < c->end && *c->p == '"')
        return js_string(c, s, SV);
    return false;
}

/* ==== ages ======================================================================= */

static bool parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    }
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

int colcache_age_between(const char *birth, const char *on)
{
    int by, bm, bd, y, m, d;
    if (!parse_ymd(birth, &by, &bm, &bd) || !parse_ymd(on, &y, &m, &d))
        return -1;
    int age = y - by - ((m < bm || (m == bm && d < bd)) ? 1 : 0);
    return age >= 0 ? age : -1;
}

/* The one fallback to an identity field (see colcache.h). */
static int age_at_registration(bool has_age, double age, const char *birth, const char *regdate)
{
    if (has_age && age >= 0 && age < 150)
        return (int)age;
    if (birth && birth[0] && regdate && regdate[0]) {
        int a = colcache_age_between(birth, regdate);
        return a >= 0 && a < 150 ? a : CC_AGE_UNKNOWN;
    }
    return CC_AGE_UNKNOWN;
}

int colcache_age_at_registration(const json_t *doc)
{
    const json_t *a = json_object_get(doc, "amp_AgeAtRegistration");
    return age_at_registration(json_is_number(a), json_is_number(a) ? json_number_value(a) : -1,
                               json_string_value(json_object_get(doc, "prs_Birthdate")),
                               json_string_value(json_object_get(doc, "amp_RegistrationDate")));
}

/* ==== filling a row =============================================================== */

static bool stats_consent(const case_facts *f, const char *today)
{
    if (!f->consent)
        return false;
    json_t *doc = json_object();
    json_t *scope = json_array();
    for (int i = 0; i < f->nlists[L_SCOPE]; i++)
        json_array_append_new(scope, json_string(f->lists[L_SCOPE][i]));
    json_object_set_new(doc, "con_Consent", json_true());
    json_object_set_new(doc, "amp_ConsentScope", scope);
    if (f->withdrawn)
        json_object_set_new(doc, "amp_ConsentWithdrawn", json_true());
    if (f->guardian)
        json_object_set_new(doc, "amp_GuardianConsent", json_true());
    if (f->bid[0])
        json_object_set_new(doc, "amp_BestInterestDecisionDate", json_string(f->bid));
    if (f->cdate[0])
        json_object_set_new(doc, "amp_ConsentDate", json_string(f->cdate));
    if (f->wdate[0])
        json_object_set_new(doc, "amp_ConsentWithdrawnDate", json_string(f->wdate));
    if (f->birth[0])
        json_object_set_new(doc, "prs_Birthdate", json_string(f->birth));
    if (f->has_age_trafficked)
        json_object_set_new(doc, "vic_AgeWhenTrafficked", json_real(f->age_trafficked));
    bool ok = consent_allows(doc, CONSENT_STATISTICS, today);
    json_decref(doc);
    return ok;
}

static void set_single(colcache *cc, cc_col col, size_t row, const char *v)
{
    cc->cols[col].single[row] = v && v[0] ? dict_intern(&cc->cols[col].d, v) : 0;
}

static void set_mask(colcache *cc, cc_col col, size_t row, char *const *vals, int n)
{
    uint64_t m = 0;
    for (int i = 0; i < n; i++) {
        uint16_t code = dict_find(&cc->cols[col].d, vals[i]);
        if (code && code <= 64)
            m |= 1ull << (code - 1);
    }
    cc->cols[col].mask[row] = m;
}

static void multi_add(colcache *cc, cc_col col, size_t row, const char *v)
{
    if (!v || !v[0])
        return;
    uint16_t code = dict_intern(&cc->cols[col].d, v);
    uint16_t *slot = cc->cols[col].multi[row];
    for (int i = 0; i < CC_MULTI_MAX; i++) {
        if (slot[i] == code)
            return;
        if (!slot[i]) {
            slot[i] = code;
            return;
        }
    }
}

typedef struct {
    colcache *cc;
    const char *today;
    size_t cases;
    bool failed;
} fill_ctx;

static int fill_row(void *arg, const store_scan_case *sc)
{
    fill_ctx *x = arg;
    colcache *cc = x->cc;
    if (!ids_reserve(cc, sc->id)) {
        x->failed = true;
        return 1;
    }
    size_t row;
    if (cc->row_of_id[sc->id]) {
        row = (size_t)cc->row_of_id[sc->id] - 1;
    } else {
        if (!rows_reserve(cc, cc->nrows + 1)) {
            x->failed = true;
            return 1;
        }
        row = cc->nrows++;
        cc->row_of_id[sc->id] = (int32_t)(row + 1);
    }
    x->cases++;
    case_facts *f = calloc(1, sizeof *f);
    if (!f) {
        x->failed = true;
        return 1;
    }
    js_members(sc->doc, sc->doc_len, case_member, f);
    cc->case_id[row] = sc->id;
    const char *regdate = f->regdate[0] ? f->regdate : sc->registered_on;
    int y = 0, m = 0, d = 0;
    if (parse_ymd(regdate, &y, &m, &d)) {
        char ys[8], ms[4];
        snprintf(ys, sizeof ys, "%04d", y);
        snprintf(ms, sizeof ms, "%02d", m);
        cc->regdate[row] = y * 10000 + m * 100 + d;
        set_single(cc, CC_YEAR, row, ys);
        set_single(cc, CC_MONTH, row, ms);
    } else {
        cc->regdate[row] = 0;
        set_single(cc, CC_YEAR, row, NULL);
        set_single(cc, CC_MONTH, row, NULL);
    }
    cc->age_reg[row] = (int16_t)age_at_registration(f->has_age_registration, f->age_registration,
                                                    f->birth, regdate);
    cc->age_exp[row] = f->has_age_trafficked && f->age_trafficked >= 0 && f->age_trafficked < 150
                           ? (int16_t)f->age_trafficked
                           : CC_AGE_UNKNOWN;
    set_single(cc, CC_GENDER, row, f->gender);
    set_single(cc, CC_INDUSTRY, row, f->industry);
    set_single(cc, CC_RELATION, row, f->relation);
    set_single(cc, CC_TSTATUS, row, f->tstatus);
    set_single(cc, CC_DECISION_ORG, row, f->decision);
    set_single(cc, CC_CASE_STATUS, row, f->status);
    set_single(cc, CC_ORG, row, sc->owner_org[0] ? sc->owner_org : f->owner);
    set_single(cc, CC_REG_COUNTRY, row, f->regcountry);
    set_mask(cc, CC_EXPLOITATION, row, f->lists[L_EXPLOIT], f->nlists[L_EXPLOIT]);
    set_mask(cc, CC_CONTROL, row, f->lists[L_CONTROL], f->nlists[L_CONTROL]);
    set_mask(cc, CC_SEXTYPE, row, f->lists[L_SEXTYPE], f->nlists[L_SEXTYPE]);
    set_mask(cc, CC_RECRUITMENT, row, f->lists[L_RECRUIT], f->nlists[L_RECRUIT]);
    static const cc_col multis[] = {CC_CITIZENSHIP, CC_COUNTRY_EXPL, CC_ORIGIN, CC_TRANSIT};
    for (size_t i = 0; i < sizeof multis / sizeof *multis; i++)
        memset(cc->cols[multis[i]].multi[row], 0, sizeof cc->cols[multis[i]].multi[row]);
    for (int i = 0; i < f->ncitizenship; i++)
        multi_add(cc, CC_CITIZENSHIP, row, f->citizenship[i]);

    /* the route: countries by event type, the first exploitation region, and
     * whether it crossed a border (several countries, or exploited outside the
     * country of citizenship) */
    char region[SV] = "", first_country[SV] = "";
    bool cross = false, any_country = false, any_exploit_abroad = false;
    for (size_t i = 0; i < sc->nevents; i++) {
        event_facts e;
        memset(&e, 0, sizeof e);
        js_members(sc->events[i], sc->event_lens[i], event_member, &e);
        if (!e.country[0])
            continue;
        if (!any_country)
            snprintf(first_country, sizeof first_country, "%s", e.country);
        else if (strcmp(first_country, e.country) != 0)
            cross = true;
        any_country = true;
        if (strcmp(e.type, "Exploitation") == 0) {
            multi_add(cc, CC_COUNTRY_EXPL, row, e.country);
            if (!region[0] && e.state[0])
                snprintf(region, sizeof region, "%s", e.state);
            bool own = f->ncitizenship == 0;
            for (int k = 0; k < f->ncitizenship; k++)
                own = own || strcmp(f->citizenship[k], e.country) == 0;
            any_exploit_abroad = any_exploit_abroad || !own;
        } else if (strcmp(e.type, "Recruitment") == 0) {
            multi_add(cc, CC_ORIGIN, row, e.country);
        } else if (strcmp(e.type, "Transit") == 0) {
            multi_add(cc, CC_TRANSIT, row, e.country);
        }
    }
    set_single(cc, CC_REGION_EXPL, row, region);
    set_single(cc, CC_BORDER, row,
               !any_country                    ? NULL
               : (cross || any_exploit_abroad) ? "CrossBorder"
                                               : "Internal");
    cc->flags[row] = CCF_LIVE | (stats_consent(f, x->today) ? CCF_STATS_CONSENT : 0);
    free(f);
    return 0;
}

/* ==== sync ========================================================================= */

amp_code colcache_sync(colcache *cc, amp_err *err)
{
    char today[11];
    clock_today(today);
    int64_t t0 = clock_mono_us();
    /* nothing written since the last sync (the common case): readers go on */
    int64_t mark = -1;
    if (store_reports_watermark(cc->store, &mark) == STORE_OK) {
        pthread_rwlock_rdlock(&cc->lock);
        bool current = cc->built && cc->watermark == mark && strcmp(cc->built_day, today) == 0;
        pthread_rwlock_unlock(&cc->lock);
        if (current)
            return AMP_OK;
    }
    pthread_rwlock_wrlock(&cc->lock);
    fill_ctx x = {.cc = cc, .today = today};
    int rc;
    bool full = !cc->built || strcmp(cc->built_day, today) != 0;
    if (full) {
        rows_release(cc);
        rc = store_reports_scan_cases(cc->store, NULL, 0, fill_row, &x, &mark);
        if (rc == STORE_OK && !x.failed) {
            cc->built = true;
            memcpy(cc->built_day, today, sizeof today);
            cc->watermark = mark;
        }
    } else {
        int64_t *ids = NULL;
        size_t n = 0;
        rc = store_reports_changes(cc->store, cc->watermark, &ids, &n, &mark);
        if (rc == STORE_OK && n) {
            /* a case that no longer exists leaves a hole: not live until re-read */
            for (size_t i = 0; i < n; i++) {
                if (ids[i] >= 0 && (size_t)ids[i] < cc->nids && cc->row_of_id[ids[i]])
                    cc->flags[cc->row_of_id[ids[i]] - 1] = 0;
            }
            int64_t ignored;
            rc = store_reports_scan_cases(cc->store, ids, n, fill_row, &x, &ignored);
        }
        free(ids);
        if (rc == STORE_OK && !x.failed)
            cc->watermark = mark;
    }
    if (rc != STORE_OK || x.failed) {
        cc->built = false; /* rebuild from scratch next time */
        pthread_rwlock_unlock(&cc->lock);
        log_error("reports: column cache sync failed (code %d)", rc);
        return amp_err_set(err, AMP_EINTERNAL, "the statistics cache could not be read");
    }
    cc->stats.rows = cc->nrows;
    size_t live = 0;
    for (size_t i = 0; i < cc->nrows; i++)
        live += cc->flags[i] & CCF_LIVE;
    cc->stats.live = live;
    cc->stats.watermark = cc->watermark;
    cc->stats.last_sync_us = clock_mono_us() - t0;
    cc->stats.last_sync_cases = x.cases;
    cc->stats.last_was_full = full;
    pthread_rwlock_unlock(&cc->lock);
    return AMP_OK;
}

void colcache_lock_read(colcache *cc)
{
    pthread_rwlock_rdlock(&cc->lock);
}

void colcache_unlock(colcache *cc)
{
    pthread_rwlock_unlock(&cc->lock);
}

void colcache_get_stats(colcache *cc, colcache_stats *out)
{
    pthread_rwlock_rdlock(&cc->lock);
    *out = cc->stats;
    pthread_rwlock_unlock(&cc->lock);
}

/* ==== reading ======================================================================== */

size_t colcache_rows(const colcache *cc)
{
    return cc->nrows;
}
uint8_t colcache_flags(const colcache *cc, size_t row)
{
    return cc->flags[row];
}
int32_t colcache_regdate(const colcache *cc, size_t row)
{
    return cc->regdate[row];
}
int16_t colcache_age_registration(const colcache *cc, size_t row)
{
    return cc->age_reg[row];
}
int16_t colcache_age_exploitation(const colcache *cc, size_t row)
{
    return cc->age_exp[row];
}
size_t colcache_dict_size(const colcache *cc, cc_col col)
{
    return cc->cols[col].d.n;
}
const char *colcache_dict_value(const colcache *cc, cc_col col, uint16_t code)
{
    return code && code <= cc->cols[col].d.n ? cc->cols[col].d.vals[code - 1] : NULL;
}
uint16_t colcache_dict_code(const colcache *cc, cc_col col, const char *value)
{
    return dict_find(&cc->cols[col].d, value);
}
uint16_t colcache_single(const colcache *cc, cc_col col, size_t row)
{
    return cc->cols[col].single[row];
}
uint64_t colcache_mask(const colcache *cc, cc_col col, size_t row)
{
    return cc->cols[col].mask[row];
}
const uint16_t *colcache_multi(const colcache *cc, cc_col col, size_t row)
{
    return cc->cols[col].multi[row];
}

void colcache_get_view(const colcache *cc, colcache_view *v)
{
    memset(v, 0, sizeof *v);
    v->rows = cc->nrows;
    v->flags = cc->flags;
    v->regdate = cc->regdate;
    v->age_reg = cc->age_reg;
    v->age_exp = cc->age_exp;
    for (int c = 0; c < CC_NCOLS; c++) {
        v->single[c] = cc->cols[c].single;
        v->mask[c] = cc->cols[c].mask;
        v->multi[c] = (const uint16_t(*)[CC_MULTI_MAX])cc->cols[c].multi;
    }
}
