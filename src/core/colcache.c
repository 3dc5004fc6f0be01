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
    if (n) { /* no escape before the closing quote (the common case): one pass */
        const char *p = c->p + 1;
        size_t k = 0;
        while (p < c->end && *p != '"' && *p != '\\' && k + 1 < n)
            out[k++] = *p++;
        if (p < c->end && *p == '"') {
            out[k] = 0;
            c->p = p + 1;
            return true;
        }
    }
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

/* The members a case document is read for, found by a small hash of the key. */
enum {
    K_NONE,
    K_GENDER,
    K_BIRTH,
    K_CITIZENSHIP,
    K_INDUSTRY,
    K_RELATION,
    K_TSTATUS,
    K_DECISION,
    K_EXPLOIT,
    K_CONTROL,
    K_SEXTYPE,
    K_RECRUIT,
    K_AGE_TRAFFICKED,
    K_STATUS,
    K_CONSENT,
    K_REGDATE,
    K_REGCOUNTRY,
    K_OWNER,
    K_BID,
    K_CDATE,
    K_WDATE,
    K_SCOPE,
    K_WITHDRAWN,
    K_GUARDIAN,
    K_AGE_REGISTRATION,
    K_COUNT
};
static const char *const key_names[K_COUNT] = {
    [K_GENDER] = "prs_Gender",
    [K_BIRTH] = "prs_Birthdate",
    [K_CITIZENSHIP] = "prs_Citizenship",
    [K_INDUSTRY] = "vic_ForcedLabourIndustry",
    [K_RELATION] = "vic_RelationshipToTrafficker",
    [K_TSTATUS] = "vic_TraffickingStatus",
    [K_DECISION] = "vic_TraffickingStatusDecisionMakingOrg",
    [K_EXPLOIT] = "vic_TypeOfExploitation",
    [K_CONTROL] = "vic_MethodsOfControl",
    [K_SEXTYPE] = "vic_TypeOfSexExploitation",
    [K_RECRUIT] = "vic_MethodOfRecruitment",
    [K_AGE_TRAFFICKED] = "vic_AgeWhenTrafficked",
    [K_STATUS] = "cas_Status",
    [K_CONSENT] = "con_Consent",
    [K_REGDATE] = "amp_RegistrationDate",
    [K_REGCOUNTRY] = "amp_RegistrationCountry",
    [K_OWNER] = "amp_OwnerOrganisation",
    [K_BID] = "amp_BestInterestDecisionDate",
    [K_CDATE] = "amp_ConsentDate",
    [K_WDATE] = "amp_ConsentWithdrawnDate",
    [K_SCOPE] = "amp_ConsentScope",
    [K_WITHDRAWN] = "amp_ConsentWithdrawn",
    [K_GUARDIAN] = "amp_GuardianConsent",
    [K_AGE_REGISTRATION] = "amp_AgeAtRegistration",
};
#define KEY_SLOTS 256
static uint8_t key_slots[KEY_SLOTS];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void key_table_init(void)
{
    for (int k = 1; k < K_COUNT; k++) {
        size_t i = hash_str(key_names[k]) & (KEY_SLOTS - 1);
        while (key_slots[i])
            i = (i + 1) & (KEY_SLOTS - 1);
        key_slots[i] = (uint8_t)k;
    }
}

static int key_id(const char *k)
{
    for (size_t i = hash_str(k) & (KEY_SLOTS - 1);; i = (i + 1) & (KEY_SLOTS - 1)) {
        int id = key_slots[i];
        if (!id)
            return K_NONE;
        if (strcmp(key_names[id], k) == 0)
            return id;
    }
}

static bool case_member(void *arg, const char *k, jcur *c)
{
    case_facts *f = arg;
    char *s = NULL;
    int list = -1;
    switch (key_id(k)) {
    case K_GENDER: s = f->gender; break;
    case K_BIRTH: s = f->birth; break;
    case K_CITIZENSHIP: return js_string_array(c, f->citizenship, &f->ncitizenship);
    case K_INDUSTRY: s = f->industry; break;
    case K_RELATION: s = f->relation; break;
    case K_TSTATUS: s = f->tstatus; break;
    case K_DECISION: s = f->decision; break;
    case K_EXPLOIT: list = L_EXPLOIT; break;
    case K_CONTROL: list = L_CONTROL; break;
    case K_SEXTYPE: list = L_SEXTYPE; break;
    case K_RECRUIT: list = L_RECRUIT; break;
    case K_AGE_TRAFFICKED: f->has_age_trafficked = js_number(c, &f->age_trafficked); return true;
    case K_STATUS: s = f->status; break;
    case K_CONSENT: f->consent = js_bool(c); return true;
    case K_REGDATE: s = f->regdate; break;
    case K_REGCOUNTRY: s = f->regcountry; break;
    case K_OWNER: s = f->owner; break;
    case K_BID: s = f->bid; break;
    case K_CDATE: s = f->cdate; break;
    case K_WDATE: s = f->wdate; break;
    case K_SCOPE: list = L_SCOPE; break;
    case K_WITHDRAWN: f->withdrawn = js_bool(c); return true;
    case K_GUARDIAN: f->guardian = js_bool(c); return true;
    case K_AGE_REGISTRATION:
        f->has_age_registration = js_number(c, &f->age_registration);
        return true;
    default: return false;
    }
    if (s) {
        if (c->p < c->end && *c->p == '"')
            return js_string(c, s, SV);
        return false;
    }
    f->nlists[list] = 0;
    if (!js_string_array(c, f->pool[list], &f->nlists[list]))
        return false;
    for (int i = 0; i < f->nlists[list]; i++)
        f->lists[list][i] = f->pool[list][i];
    return true;
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

static bool validate_birth_like(const char *s)
{
    int y, m, d;
    return parse_ymd(s, &y, &m, &d);
}

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
    if (f->birth[0] && validate_birth_like(f->birth)) {
        json_object_set_new(doc, "prs_Birthdate", json_string(f->birth));
    } else if (f->has_age_registration && f->regdate[0] && strlen(f->regdate) >= 10) {
        /* the birth date is sealed: the youngest the person can be, from the
         * clear age at registration, so a possible child counts as a child */
        char b[16];
        snprintf(b, sizeof b, "%04d%.6s", atoi(f->regdate) - (int)f->age_registration,
                 f->regdate + 4);
        json_object_set_new(doc, "prs_Birthdate", json_string(b));
    }
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
    pthread_once(&key_once, key_table_init);
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

/* ==== the full build: reading and parsing on two threads ============================= */

/* The store scan (this thread) copies cases into batches; a second thread parses
 * them into the columns, so reading the database and scanning the documents
 * overlap.  Only the second thread touches the cache. */
#define BATCH_CASES 2048
#define QUEUE_BATCHES 4

typedef struct {
    int64_t id;
    size_t uid, reference, owner, reg, doc, doc_len, ev_first, nev;
} batch_item;

typedef struct batch {
    char *arena;
    size_t len, cap;
    batch_item *items;
    size_t n;
    size_t *ev_off, *ev_len;
    size_t nev, evcap;
    struct batch *next;
} batch;

typedef struct {
    fill_ctx *x;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch *queue_head, *queue_tail, *free_list;
    size_t queued;
    bool done, oom;
    batch *cur;
} pipeline;

static size_t arena_add(batch *b, const char *s, size_t n, bool *oom)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *g = realloc(b->arena, cap);
        if (!g) {
            *oom = true;
            return 0;
        }
        b->arena = g;
        b->cap = cap;
    }
    size_t off = b->len;
    memcpy(b->arena + off, s ? s : "", n);
    b->arena[off + n] = 0;
    b->len += n + 1;
    return off;
}

static batch *batch_get(pipeline *pl)
{
    pthread_mutex_lock(&pl->mu);
    batch *b = pl->free_list;
    if (b)
        pl->free_list = b->next;
    pthread_mutex_unlock(&pl->mu);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (b)
            b->items = malloc(BATCH_CASES * sizeof *b->items);
        if (b && !b->items) {
            free(b);
            b = NULL;
        }
    }
    if (b)
        b->len = b->n = b->nev = 0;
    return b;
}

static void batch_free(batch *b)
{
    free(b->arena);
    free(b->items);
    free(b->ev_off);
    free(b->ev_len);
    free(b);
}

static void enqueue(pipeline *pl, batch *b)
{
    pthread_mutex_lock(&pl->mu);
    while (pl->queued >= QUEUE_BATCHES && !pl->oom)
        pthread_cond_wait(&pl->cv, &pl->mu);
    b->next = NULL;
    if (pl->queue_tail)
        pl->queue_tail->next = b;
    else
        pl->queue_head = b;
    pl->queue_tail = b;
    pl->queued++;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
}

static void *consumer(void *arg)
{
    pipeline *pl = arg;
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        while (!pl->queue_head && !pl->done)
            pthread_cond_wait(&pl->cv, &pl->mu);
        batch *b = pl->queue_head;
        if (!b) {
            pthread_mutex_unlock(&pl->mu);
            return NULL;
        }
        pl->queue_head = b->next;
        if (!pl->queue_head)
            pl->queue_tail = NULL;
        pl->queued--;
        pthread_cond_broadcast(&pl->cv);
        pthread_mutex_unlock(&pl->mu);
        const char *evs[512];
        size_t evl[512];
        for (size_t i = 0; i < b->n && !pl->x->failed; i++) {
            batch_item *it = &b->items[i];
            size_t nev = it->nev < 512 ? it->nev : 512;
            for (size_t k = 0; k < nev; k++) {
                evs[k] = b->arena + b->ev_off[it->ev_first + k];
                evl[k] = b->ev_len[it->ev_first + k];
            }
            store_scan_case row = {.id = it->id,
                                   .uid = b->arena + it->uid,
                                   .reference = b->arena + it->reference,
                                   .owner_org = b->arena + it->owner,
                                   .registered_on = b->arena + it->reg,
                                   .doc = b->arena + it->doc,
                                   .doc_len = it->doc_len,
                                   .events = evs,
                                   .event_lens = evl,
                                   .nevents = nev};
            fill_row(pl->x, &row);
        }
        pthread_mutex_lock(&pl->mu);
        b->next = pl->free_list;
        pl->free_list = b;
        pthread_mutex_unlock(&pl->mu);
    }
}

static int produce(void *arg, const store_scan_case *sc)
{
    pipeline *pl = arg;
    if (pl->x->failed || pl->oom)
        return 1;
    batch *b = pl->cur;
    bool oom = false;
    batch_item *it = &b->items[b->n];
    it->id = sc->id;
    it->uid = arena_add(b, sc->uid, strlen(sc->uid), &oom);
    it->reference = arena_add(b, sc->reference, strlen(sc->reference), &oom);
    it->owner = arena_add(b, sc->owner_org, strlen(sc->owner_org), &oom);
    it->reg = arena_add(b, sc->registered_on, strlen(sc->registered_on), &oom);
    it->doc = arena_add(b, sc->doc, sc->doc_len, &oom);
    it->doc_len = sc->doc_len;
    it->ev_first = b->nev;
    it->nev = sc->nevents;
    if (b->nev + sc->nevents > b->evcap) {
        size_t cap = b->evcap ? b->evcap : 4096;
        while (cap < b->nev + sc->nevents)
            cap *= 2;
        size_t *o = realloc(b->ev_off, cap * sizeof *o);
        if (o)
            b->ev_off = o;
        size_t *l = o ? realloc(b->ev_len, cap * sizeof *l) : NULL;
        if (l)
            b->ev_len = l;
        if (!o || !l)
            oom = true;
        else
            b->evcap = cap;
    }
    for (size_t k = 0; k < sc->nevents && !oom; k++) {
        b->ev_off[b->nev] = arena_add(b, sc->events[k], sc->event_lens[k], &oom);
        b->ev_len[b->nev++] = sc->event_lens[k];
    }
    if (oom) {
        pl->oom = true;
        return 1;
    }
    if (++b->n == BATCH_CASES) {
        enqueue(pl, b);
        pl->cur = batch_get(pl);
        if (!pl->cur) {
            pl->oom = true;
            return 1;
        }
    }
    return 0;
}

/* Scans every case into the cache, parsing on a second thread. */
static int full_scan(colcache *cc, fill_ctx *x, int64_t *mark)
{
    pipeline pl = {.x = x};
    pthread_mutex_init(&pl.mu, NULL);
    pthread_cond_init(&pl.cv, NULL);
    pl.cur = batch_get(&pl);
    pthread_t th;
    if (!pl.cur || pthread_create(&th, NULL, consumer, &pl) != 0) {
        if (pl.cur)
            batch_free(pl.cur);
        pthread_mutex_destroy(&pl.mu);
        pthread_cond_destroy(&pl.cv);
        return store_reports_scan_cases(cc->store, NULL, 0, fill_row, x, mark);
    }
    int rc = store_reports_scan_cases(cc->store, NULL, 0, produce, &pl, mark);
    if (pl.cur && pl.cur->n)
        enqueue(&pl, pl.cur);
    else if (pl.cur)
        batch_free(pl.cur);
    pthread_mutex_lock(&pl.mu);
    pl.done = true;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    pthread_join(th, NULL);
    while (pl.free_list) {
        batch *b = pl.free_list;
        pl.free_list = b->next;
        batch_free(b);
    }
    while (pl.queue_head) { /* left over after a failure */
        batch *b = pl.queue_head;
        pl.queue_head = b->next;
        batch_free(b);
    }
    pthread_mutex_destroy(&pl.mu);
    pthread_cond_destroy(&pl.cv);
    if (pl.oom)
        x->failed = true;
    return rc;
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
        rc = full_scan(cc, &x, &mark);
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
long colcache_row_of_case(const colcache *cc, int64_t case_id)
{
    if (case_id < 0 || (size_t)case_id >= cc->nids || !cc->row_of_id[case_id])
        return -1;
    return (long)cc->row_of_id[case_id] - 1;
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
