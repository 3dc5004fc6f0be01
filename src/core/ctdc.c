/* ctdc.c — the CTDC global dataset export with k-anonymisation (see ctdc.h).
 *
 * Rows come from the column cache (non-identifying facts only).  Sections: the
 * layout and the mapping of HTCDS codes to CTDC codings; one row's values; the
 * k-anonymisation; writing. */
#include "core/ctdc.h"
#include "core/audit.h"
#include "core/colcache.h"
#include "core/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ctdc_variables[CTDC_NVARS] = {"yearOfRegistration",
                                                "Datasource",
                                                "gender",
                                                "ageBroad",
                                                "majorityStatus",
                                                "majorityStatusAtExploit",
                                                "majorityEntry",
                                                "citizenship",
                                                "meansOfControlDebtBondage",
                                                "meansOfControlTakesEarnings",
                                                "meansOfControlRestrictsFinancialAccess",
                                                "meansOfControlThreats",
                                                "meansOfControlPsychologicalAbuse",
                                                "meansOfControlPhysicalAbuse",
                                                "meansOfControlSexualAbuse",
                                                "meansOfControlFalsePromises",
                                                "meansOfControlPsychoactiveSubstances",
                                                "meansOfControlRestrictsMovement",
                                                "meansOfControlRestrictsMedicalCare",
                                                "meansOfControlExcessiveWorkingHours",
                                                "meansOfControlUsesChildren",
                                                "meansOfControlThreatOfLawEnforcement",
                                                "meansOfControlWithholdsNecessities",
                                                "meansOfControlWithholdsDocuments",
                                                "meansOfControlOther",
                                                "meansOfControlNotSpecified",
                                                "meansOfControlConcatenated",
                                                "isForcedLabour",
                                                "isSexualExploit",
                                                "isOtherExploit",
                                                "isSexAndLabour",
                                                "isForcedMarriage",
                                                "isForcedMilitary",
                                                "isOrganRemoval",
                                                "isSlaveryAndPractices",
                                                "typeOfExploitConcatenated",
                                                "typeOfLabourAgriculture",
                                                "typeOfLabourAquafarming",
                                                "typeOfLabourBegging",
                                                "typeOfLabourConstruction",
                                                "typeOfLabourDomesticWork",
                                                "typeOfLabourHospitality",
                                                "typeOfLabourIllicitActivities",
                                                "typeOfLabourManufacturing",
                                                "typeOfLabourMiningOrDrilling",
                                                "typeOfLabourPeddling",
                                                "typeOfLabourTransportation",
                                                "typeOfLabourOther",
                                                "typeOfLabourNotSpecified",
                                                "typeOfLabourConcatenated",
                                                "typeOfSexProstitution",
                                                "typeOfSexPornography",
                                                "typeOfSexRemoteInteractiveServices",
                                                "typeOfSexPrivateSexualServices",
                                                "typeOfSexConcatenated",
                                                "isAbduction",
                                                "RecruiterRelationship",
                                                "CountryOfExploitation",
                                                "recruiterRelationIntimatePartner",
                                                "recruiterRelationFriend",
                                                "recruiterRelationFamily",
                                                "recruiterRelationOther",
                                                "recruiterRelationUnknown"};

const char *const ctdc_default_qi[] = {"yearOfRegistration",
                                       "gender",
                                       "ageBroad",
                                       "majorityStatus",
                                       "majorityStatusAtExploit",
                                       "majorityEntry",
                                       "citizenship",
                                       "CountryOfExploitation",
                                       NULL};

enum {
    V_YEAR = 0,
    V_SOURCE,
    V_GENDER,
    V_AGE,
    V_MAJ,
    V_MAJ_EXPLOIT,
    V_MAJ_ENTRY,
    V_CITIZENSHIP,
    V_MOC_FIRST = 8, /* 18 flags: 8..25 */
    V_MOC_NOTSPEC = 25,
    V_MOC_CONCAT = 26,
    V_IS_FORCED_LABOUR = 27,
    V_IS_SEX,
    V_IS_OTHER,
    V_IS_SEX_AND_LABOUR,
    V_IS_MARRIAGE,
    V_IS_MILITARY,
    V_IS_ORGAN,
    V_IS_SLAVERY,
    V_EXPLOIT_CONCAT = 35,
    V_LAB_FIRST = 36, /* 13 flags: 36..48 */
    V_LAB_NOTSPEC = 48,
    V_LAB_CONCAT = 49,
    V_SEX_FIRST = 50, /* 4 flags */
    V_SEX_CONCAT = 54,
    V_ABDUCTION = 55,
    V_RECRUITER = 56,
    V_COUNTRY_EXPLOIT = 57,
    V_REL_FIRST = 58 /* 5 flags: intimate partner, friend, family, other, unknown */
};

/* Means of control: CTDC flag (offset from V_MOC_FIRST), its label in the
 * concatenation, and the HTCDS values that set it. */
static const struct {
    const char *label;
    const char *htcds[3];
} moc_map[18] = {
    {"Debt bondage", {"DebtBondage"}},
    {"Takes/Withholds Earnings", {"TakesEarnings"}},
    {"Restricts access to finances", {"RestrictsFinancialAccess"}},
    {"Threats to individual or others", {"PhysicalThreats", "ThreatensChildrenFamily"}},
    {"Psychological abuse", {"PsychologicalAbuse"}},
    {"Physical abuse", {"PhysicalAbuse"}},
    {"Sexual abuse", {"SexualAbuse"}},
    {"False promises/deception", {"FalsePromises"}},
    {"Use of psychoactive substances", {"PsychoactiveSubstance"}},
    {"Denied freedom of movement/kept in isolation", {NULL}},
    {"Limits/restricts medical services", {"RestrictsMedicalCare"}},
    {"Excessive working hours", {"ExcessiveWorkingHours"}},
    {"Restricts access to/manipulates children", {"ThreatensChildrenFamily"}},
    {"Threat of action by law enforcement", {"ThreatsLawEnforcement"}},
    {"Withholds/denies basic necessities", {"WithholdsNecessities"}},
    {"Withholds/Destroys Important Documents", {"WithholdsDocuments"}},
    {"Other", {"Other"}},
    {"Not Specified", {NULL}},
};

/* Types of exploitation: CTDC flag and the HTCDS values that set it. */
static const struct {
    int var;
    const char *label;
    const char *htcds[4];
} exploit_map[] = {
    {V_IS_FORCED_LABOUR, "Forced labour", {"ForcedLabour", "ChildLabour", "ForcedBegging"}},
    {V_IS_SEX, "Sexual exploitation", {"SexualExploitation"}},
    {V_IS_OTHER, "Other", {"Other", "ForcedAdoption", "Surrogacy"}},
    {V_IS_MARRIAGE, "Forced marriage", {"ForcedMarriage"}},
    {V_IS_MILITARY, "Forced military", {"ForcedMilitaryByNonStateActors"}},
    {V_IS_ORGAN, "Organ removal", {"OrganRemoval"}},
    {V_IS_SLAVERY, "Slavery and similar practices", {"Servitude"}},
};
#define NEXPLOIT (sizeof exploit_map / sizeof *exploit_map)

/* Types of labour (offset from V_LAB_FIRST), from the ISIC industry. */
static const struct {
    const char *label;
    const char *isic;
} labour_map[13] = {
    {"Agriculture/Farms/Animal Husbandry", "A_AgricultureForestryAndFishing"},
    {"Aquafarming/Fishing", NULL},
    {"Begging", NULL}, /* from vic_TypeOfExploitation ForcedBegging */
    {"Construction", "F_Construction"},
    {"Domestic Work", "T_ActivitiesOfHouseholdsAsEmployers"},
    {"Hospitality/Restaurant/Food Service/Hotel", "I_AccommodationAndFoodServiceActivities"},
    {"Illicit Activities", NULL},
    {"Manufacturing/Factory work", "C_Manufacturing"},
    {"Mining, Quarrying, Oil/Gas Extraction", "B_MiningAndQuarrying"},
    {"Peddling/informal street commerce", "G_WholesaleAndRetailTradeRepairOfMotorVehicles"},
    {"Transportation", "H_TransportationAndStorage"},
    {"Other", NULL}, /* any other industry */
    {"Not Specified", NULL},
};

static const struct {
    const char *label, *htcds;
} sex_map[4] = {{"Prostitution", "Prostitution"},
                {"Pornography", "Pornography"},
                {"Remote interactive services", "RemoteInteractiveServices"},
                {"Private sexual services", "PrivateSexualServices"}};

/* ==== one row's values ============================================================ */

typedef struct {
    const colcache *cc;
    uint64_t moc_bits[18];
    uint64_t exploit_bits[NEXPLOIT];
    uint64_t begging_bit;
    uint64_t sex_bits[4];
    uint16_t labour_code[13];
} mapping;

static uint64_t bit_of(const colcache *cc, cc_col col, const char *value)
{
    uint16_t code = value ? colcache_dict_code(cc, col, value) : 0;
    return code && code <= 64 ? 1ull << (code - 1) : 0;
}

static void mapping_init(mapping *m, const colcache *cc)
{
    memset(m, 0, sizeof *m);
    m->cc = cc;
    for (int i = 0; i < 18; i++)
        for (int k = 0; k < 3 && moc_map[i].htcds[k]; k++)
            m->moc_bits[i] |= bit_of(cc, CC_CONTROL, moc_map[i].htcds[k]);
    for (size_t i = 0; i < NEXPLOIT; i++)
        for (int k = 0; k < 4 && exploit_map[i].htcds[k]; k++)
            m->exploit_bits[i] |= bit_of(cc, CC_EXPLOITATION, exploit_map[i].htcds[k]);
    m->begging_bit = bit_of(cc, CC_EXPLOITATION, "ForcedBegging");
    for (int i = 0; i < 4; i++)
        m->sex_bits[i] = bit_of(cc, CC_SEXTYPE, sex_map[i].htcds);
    for (int i = 0; i < 13; i++)
        m->labour_code[i] =
            labour_map[i].isic ? colcache_dict_code(cc, CC_INDUSTRY, labour_map[i].isic) : 0;
}

static const char *age_broad(int age)
{
    static const struct {
        int hi;
        const char *code;
    } bins[] = {{8, "0--8"},    {17, "9--17"},  {20, "18--20"}, {23, "21--23"}, {26, "24--26"},
                {29, "27--29"}, {38, "30--38"}, {47, "39--47"}, {1000, "48+"}};
    if (age < 0)
        return "";
    for (size_t i = 0; i < sizeof bins / sizeof *bins; i++) {
        if (age <= bins[i].hi)
            return bins[i].code;
    }
    return "";
}

static const char *gender_of(const char *g)
{
    if (!g)
        return "";
    if (strcmp(g, "Feminine") == 0)
        return "Female";
    if (strcmp(g, "Masculine") == 0)
        return "Male";
    if (strcmp(g, "NonSpecifiedUnknown") == 0)
        return "Unknown";
    return "Transgender/NonConforming";
}

/* Concatenation buffers of one row. */
typedef struct {
    char moc[512], exploit[256], labour[512], sex[128];
} row_text;

static void join(char *out, size_t n, const char *label)
{
    size_t len = strlen(out);
    snprintf(out + len, n - len, "%s%s", len ? "; " : "", label);
}

/* Fills v[63] for cache row `row` (strings static or in t). */
static void row_values(const mapping *m, size_t row, const char **v, row_text *t)
{
    const colcache *cc = m->cc;
    static const char *const flag[2] = {"0", "1"};
    for (int i = 0; i < CTDC_NVARS; i++)
        v[i] = "";
    t->moc[0] = t->exploit[0] = t->labour[0] = t->sex[0] = 0;
    const char *year = colcache_dict_value(cc, CC_YEAR, colcache_single(cc, CC_YEAR, row));
    v[V_YEAR] = year ? year : "";
    v[V_SOURCE] = "Case Management";
    v[V_GENDER] =
        gender_of(colcache_dict_value(cc, CC_GENDER, colcache_single(cc, CC_GENDER, row)));
    int age = colcache_age_registration(cc, row), age_x = colcache_age_exploitation(cc, row);
    v[V_AGE] = age_broad(age);
    v[V_MAJ] = age < 0 ? "Unknown" : age < 18 ? "Minor" : "Adult";
    v[V_MAJ_EXPLOIT] = age_x < 0 ? "Unknown" : age_x < 18 ? "Minor" : "Adult";
    v[V_MAJ_ENTRY] = v[V_MAJ_EXPLOIT];
    const uint16_t *cit = colcache_multi(cc, CC_CITIZENSHIP, row);
    v[V_CITIZENSHIP] = cit[0] ? colcache_dict_value(cc, CC_CITIZENSHIP, cit[0]) : "";
    const uint16_t *cx = colcache_multi(cc, CC_COUNTRY_EXPL, row);
    v[V_COUNTRY_EXPLOIT] = cx[0] ? colcache_dict_value(cc, CC_COUNTRY_EXPL, cx[0]) : "";

    uint64_t moc = colcache_mask(cc, CC_CONTROL, row);
    if (moc) {
        for (int i = 0; i < 17; i++) {
            bool on = (moc & m->moc_bits[i]) != 0;
            /* a flag no HTCDS value can set is unknown, not "0" (as isAbduction) */
            v[V_MOC_FIRST + i] = moc_map[i].htcds[0] ? flag[on] : "";
            if (on)
                join(t->moc, sizeof t->moc, moc_map[i].label);
        }
        v[V_MOC_NOTSPEC] = "0";
        v[V_MOC_CONCAT] = t->moc;
    } else {
        v[V_MOC_NOTSPEC] = "1";
    }

    uint64_t ex = colcache_mask(cc, CC_EXPLOITATION, row);
    bool labour = false, sex = false;
    if (ex) {
        for (size_t i = 0; i < NEXPLOIT; i++) {
            bool on = (ex & m->exploit_bits[i]) != 0;
            v[exploit_map[i].var] = flag[on];
            if (on)
                join(t->exploit, sizeof t->exploit, exploit_map[i].label);
            if (exploit_map[i].var == V_IS_FORCED_LABOUR)
                labour = on;
            if (exploit_map[i].var == V_IS_SEX)
                sex = on;
        }
        v[V_IS_SEX_AND_LABOUR] = flag[labour && sex];
        v[V_EXPLOIT_CONCAT] = t->exploit;
    }
    if (labour) {
        uint16_t ind = colcache_single(cc, CC_INDUSTRY, row);
        bool any = false, matched = false;
        for (int i = 0; i < 12; i++) {
            bool by_industry = m->labour_code[i] && ind == m->labour_code[i];
            bool on = by_industry || (i == 2 && (ex & m->begging_bit));
            v[V_LAB_FIRST + i] = flag[on];
            any = any || on;
            matched = matched || by_industry;
        }
        if (ind && !matched) { /* an industry without its own CTDC flag */
            v[V_LAB_FIRST + 11] = "1";
            any = true;
        }
        for (int i = 0; i < 12; i++)
            if (v[V_LAB_FIRST + i][0] == '1')
                join(t->labour, sizeof t->labour, labour_map[i].label);
        v[V_LAB_NOTSPEC] = flag[!any];
        if (!any)
            join(t->labour, sizeof t->labour, labour_map[12].label);
        v[V_LAB_CONCAT] = t->labour;
    }
    if (sex) {
        uint64_t st = colcache_mask(cc, CC_SEXTYPE, row);
        for (int i = 0; i < 4; i++) {
            bool on = (st & m->sex_bits[i]) != 0;
            v[V_SEX_FIRST + i] = flag[on];
            if (on)
                join(t->sex, sizeof t->sex, sex_map[i].label);
        }
        v[V_SEX_CONCAT] = t->sex;
    }
    /* recruiter relation: HTCDS has one value (Familial, Acquainted, Unaquainted) */
    const char *rel = colcache_dict_value(cc, CC_RELATION, colcache_single(cc, CC_RELATION, row));
    int r = !rel ? 4 : strcmp(rel, "Familial") == 0 ? 2 : strcmp(rel, "Acquainted") == 0 ? 1 : 3;
    static const char *const rel_labels[5] = {"Intimate Partner", "Friend/Acquaintance",
                                              "Family/Relative", "Other", "Not Specified"};
    v[V_RECRUITER] = rel_labels[r];
    /* HTCDS cannot say "intimate partner": that flag is unknown, never "0" */
    for (int i = 1; i < 5; i++)
        v[V_REL_FIRST + i] = flag[i == r];
}

/* ==== k-anonymisation =============================================================== */

/* The CTDC codings leave little room for generalisation: a year, an age bin, a
 * country are either given or blank.  So the method is mostly local suppression
 * (blanking a quasi-identifier only in the rows of classes smaller than k),
 * with one hierarchy the coding offers: ageBroad is blanked before
 * majorityStatus, which then still says Minor or Adult.  Whole-variable
 * generalisation and leaving rows out are the fallbacks, chosen by a search
 * that compares the information each candidate keeps.  Everything after the
 * first pass over the rows works on the distinct tuples, not on the rows, so
 * the cost stays linear in the rows. */

typedef struct {
    int var;     /* index into ctdc_variables */
    char **vals; /* dictionary: code-1 -> value */
    size_t n, cap;
    uint16_t *codes; /* per exported row, 0 blank */
    size_t *freq;    /* rows per code */
    int level;       /* global: 0 exact, 1 values held by fewer than k rows blanked, 2 blanked */
    double weight;   /* information of one value of this variable: its entropy in bits */
    int twin;        /* a quasi-identifier always equal to this one (blanked with it), or -1 */
    int finer;       /* a quasi-identifier that must be blank before this one is, or -1 */
    size_t blanked;  /* values blanked in the file */
    size_t kept;     /* rows of the file with a value */
} qi_col;

static uint16_t qi_intern(qi_col *q, const char *v)
{
    if (!v[0])
        return 0;
    for (size_t i = 0; i < q->n; i++) /* few distinct values per variable */
        if (strcmp(q->vals[i], v) == 0)
            return (uint16_t)(i + 1);
    if (q->n >= 65000)
        return 0;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 32;
        char **g = realloc(q->vals, cap * sizeof *g);
        if (!g)
            return 0;
        q->vals = g;
        q->cap = cap;
    }
    q->vals[q->n] = strdup(v);
    return q->vals[q->n] ? (uint16_t)++q->n : 0;
}

/* The value of code c after the variable's global generalisation. */
static uint16_t qi_general(const qi_col *q, uint16_t c, int k)
{
    if (c == 0 || q->level >= 2)
        return 0;
    if (q->level == 1 && q->freq[c] < (size_t)k)
        return 0;
    return c;
}

/* A set of distinct tuples of quasi-identifier codes, each with the rows it
 * holds and where those rows went when the tuple was suppressed further. */
typedef struct {
    int nq;
    uint16_t *vals;  /* n tuples of nq codes */
    uint32_t *count; /* rows in the tuple now */
    uint32_t *to;    /* the tuple its rows moved to (itself while they have not) */
    size_t n, cap;
    uint32_t *slot; /* open addressing: tuple index + 1, 0 empty */
    size_t mask;
} tuple_set;

static uint64_t tuple_hash(const uint16_t *t, int nq)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int q = 0; q < nq; q++) {
        h = (h ^ t[q]) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

static void ts_free(tuple_set *s)
{
    free(s->vals);
    free(s->count);
    free(s->to);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

static bool ts_rehash(tuple_set *s, size_t slots)
{
    uint32_t *g = calloc(slots, sizeof *g);
    if (!g)
        return false;
    free(s->slot);
    s->slot = g;
    s->mask = slots - 1;
    for (size_t i = 0; i < s->n; i++) {
        size_t h = tuple_hash(s->vals + i * (size_t)s->nq, s->nq) & s->mask;
        while (s->slot[h])
            h = (h + 1) & s->mask;
        s->slot[h] = (uint32_t)(i + 1);
    }
    return true;
}

/* The index of tuple t, or -1 when absent. */
static int64_t ts_find(const tuple_set *s, const uint16_t *t)
{
    if (!s->slot)
        return -1;
    size_t h = tuple_hash(t, s->nq) & s->mask;
    for (; s->slot[h]; h = (h + 1) & s->mask) {
        size_t i = s->slot[h] - 1;
        if (memcmp(s->vals + i * (size_t)s->nq, t, (size_t)s->nq * sizeof *t) == 0)
            return (int64_t)i;
    }
    return -1;
}

/* The index of tuple t, added (with no rows) when absent; -1 when out of memory. */
static int64_t ts_intern(tuple_set *s, const uint16_t *t)
{
    if (!s->slot && !ts_rehash(s, 1024))
        return -1;
    int64_t found = ts_find(s, t);
    if (found >= 0)
        return found;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint16_t *v = realloc(s->vals, cap * (size_t)s->nq * sizeof *v);
        if (v)
            s->vals = v;
        uint32_t *c = realloc(s->count, cap * sizeof *c);
        if (c)
            s->count = c;
        uint32_t *to = realloc(s->to, cap * sizeof *to);
        if (to)
            s->to = to;
        if (!v || !c || !to || cap >= UINT32_MAX)
            return -1;
        s->cap = cap;
    }
    size_t i = s->n++;
    memcpy(s->vals + i * (size_t)s->nq, t, (size_t)s->nq * sizeof *t);
    s->count[i] = 0;
    s->to[i] = (uint32_t)i;
    if (s->n * 2 > s->mask + 1) {
        if (!ts_rehash(s, (s->mask + 1) * 2))
            return -1;
    } else {
        size_t h = tuple_hash(t, s->nq) & s->mask;
        while (s->slot[h])
            h = (h + 1) & s->mask;
        s->slot[h] = (uint32_t)(i + 1);
    }
    return (int64_t)i;
}

/* Where the rows of tuple i are now (with path compression). */
static uint32_t ts_resolve(tuple_set *s, uint32_t i)
{
    uint32_t root = i;
    while (s->to[root] != root)
        root = s->to[root];
    while (s->to[i] != root) {
        uint32_t next = s->to[i];
        s->to[i] = root;
        i = next;
    }
    return root;
}

static bool tuple_all_blank(const uint16_t *t, int nq)
{
    for (int q = 0; q < nq; q++)
        if (t[q])
            return false;
    return true;
}

static int tuple_filled(const uint16_t *t, int nq)
{
    int n = 0;
    for (int q = 0; q < nq; q++)
        n += t[q] != 0;
    return n;
}

/* One candidate anonymisation: the global levels it was built with, the
 * tuples after global generalisation and local suppression, and what it
 * keeps. */
typedef struct {
    tuple_set ts;
    uint32_t *of_base;   /* base tuple -> its tuple in ts after global generalisation */
    int64_t blank_tuple; /* the all-blank tuple, or -1 */
    bool drop_blank;     /* the all-blank class is smaller than k: its rows are left out */
    double info;         /* information kept: sum over kept values of their weight */
    size_t dropped;      /* rows left out */
    bool feasible;       /* dropped within the budget */
} plan;

static void plan_free(plan *pl)
{
    ts_free(&pl->ts);
    free(pl->of_base);
    memset(pl, 0, sizeof *pl);
}

typedef struct {
    const qi_col *qs;
    int nq, k;
    tuple_set *base; /* distinct tuples of the rows, with their row counts */
    size_t budget;   /* rows that may be left out */
} search_ctx;

typedef struct {
    uint64_t key;
    uint32_t index;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* t with the quasi-identifiers outside `keep` blanked. */
static void project(const uint16_t *t, int nq, uint32_t keep, uint16_t *out)
{
    for (int q = 0; q < nq; q++)
        out[q] = keep >> q & 1 ? t[q] : 0;
}

/* One round's view of the small classes: for a set of kept quasi-identifiers,
 * how many rows of small classes agree on them (built when first asked). */
typedef struct {
    tuple_set *by_mask[1u << CTDC_MAX_QI];
    const tuple_set *ts;
    const uint32_t *small;
    size_t ns;
} potential_index;

static void potential_free(potential_index *pi)
{
    for (size_t m = 0; m < sizeof pi->by_mask / sizeof *pi->by_mask; m++) {
        if (pi->by_mask[m]) {
            ts_free(pi->by_mask[m]);
            free(pi->by_mask[m]);
            pi->by_mask[m] = NULL;
        }
    }
}

/* Rows of small classes that agree with t on `keep`; UINT32_MAX when out of memory. */
static uint32_t potential_of(potential_index *pi, int nq, uint32_t keep, const uint16_t *t)
{
    uint16_t pt[CTDC_MAX_QI];
    tuple_set *s = pi->by_mask[keep];
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return UINT32_MAX;
        s->nq = nq;
        pi->by_mask[keep] = s;
        for (size_t a = 0; a < pi->ns; a++) {
            uint32_t i = pi->small[a];
            project(pi->ts->vals + i * (size_t)nq, nq, keep, pt);
            int64_t j = ts_intern(s, pt);
            if (j < 0)
                return UINT32_MAX;
            s->count[j] += pi->ts->count[i];
        }
    }
    project(t, nq, keep, pt);
    int64_t j = ts_find(s, pt);
    return j >= 0 ? s->count[j] : 0;
}

/* The ways a class with the quasi-identifiers `filled` non-blank may blank
 * some of them, cheapest first: a twin goes with its pair, majorityStatus only
 * with or after ageBroad; subsets of up to 4 such units, and all of them,
 * which is every subset for the default eight quasi-identifiers (seven units)
 * and bounded for more. */
typedef struct {
    uint32_t *keep; /* the quasi-identifiers kept */
    double *cost;   /* information lost per row */
    size_t n;
} blank_choices;

typedef struct {
    blank_choices *by_filled[1u << CTDC_MAX_QI];
} choices_cache;

static void choices_free(choices_cache *cache)
{
    for (size_t m = 0; m < sizeof cache->by_filled / sizeof *cache->by_filled; m++) {
        blank_choices *bc = cache->by_filled[m];
        if (bc) {
            free(bc->keep);
            free(bc->cost);
            free(bc);
        }
    }
}

typedef struct {
    double cost;
    uint32_t keep;
    int units;
} choice;

static int by_cost(const void *a, const void *b)
{
    const choice *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    if (x->units != y->units)
        return x->units - y->units;
    return x->keep < y->keep ? 1 : x->keep > y->keep ? -1 : 0;
}

static const blank_choices *choices_for(const search_ctx *x, choices_cache *cache, uint32_t filled)
{
    if (cache->by_filled[filled])
        return cache->by_filled[filled];
    int nq = x->nq, nu = 0;
    uint32_t unit_bits[CTDC_MAX_QI];
    double unit_cost[CTDC_MAX_QI];
    int unit_finer[CTDC_MAX_QI], unit_of[CTDC_MAX_QI];
    for (int q = 0; q < nq; q++)
        unit_of[q] = -1;
    for (int q = 0; q < nq; q++) {
        const qi_col *c = &x->qs[q];
        if (c->twin >= 0 && c->twin < q)
            continue; /* the pair is one unit, led by its first member */
        uint32_t bits = 1u << q | (c->twin >= 0 ? 1u << c->twin : 0);
        if (!(filled & bits))
            continue;
        unit_bits[nu] = bits & filled;
        unit_cost[nu] = (filled >> q & 1 ? c->weight : 0) +
                        (c->twin >= 0 && filled >> c->twin & 1 ? x->qs[c->twin].weight : 0);
        unit_of[q] = nu;
        if (c->twin >= 0)
            unit_of[c->twin] = nu;
        nu++;
    }
    for (int u = 0; u < nu; u++) {
        int f = x->qs[__builtin_ctz(unit_bits[u])].finer;
        unit_finer[u] = f >= 0 && filled >> f & 1 ? unit_of[f] : -1;
    }
    blank_choices *bc = calloc(1, sizeof *bc);
    size_t max = nu ? (size_t)1 << nu : 1;
    choice *list = malloc(max * sizeof *list);
    if (!bc || !list) {
        free(bc);
        free(list);
        return NULL;
    }
    size_t n = 0;
    uint32_t full = nu ? (uint32_t)(max - 1) : 0;
    for (uint32_t set = 1; set <= full; set++) {
        int units = __builtin_popcount(set);
        if (units > 4 && set != full)
            continue;
        bool valid = true;
        choice ch = {.keep = filled, .units = units};
        for (int u = 0; u < nu; u++) {
            if (!(set >> u & 1))
                continue;
            valid = valid && (unit_finer[u] < 0 || set >> unit_finer[u] & 1);
            ch.cost += unit_cost[u];
            ch.keep &= ~unit_bits[u];
        }
        if (valid)
            list[n++] = ch;
    }
    qsort(list, n, sizeof *list, by_cost);
    bc->keep = malloc((n + 1) * sizeof *bc->keep);
    bc->cost = malloc((n + 1) * sizeof *bc->cost);
    if (!bc->keep || !bc->cost) {
        free(bc->keep);
        free(bc->cost);
        free(bc);
        free(list);
        return NULL;
    }
    for (size_t a = 0; a < n; a++) {
        bc->keep[a] = list[a].keep;
        bc->cost[a] = list[a].cost;
    }
    bc->n = n;
    free(list);
    cache->by_filled[filled] = bc;
    return bc;
}

/* Small classes into larger ones, in rounds.  Each class smaller than k looks
 * at every way of blanking some of its quasi-identifiers (a twin with its
 * pair, majorityStatus only once ageBroad is blank) and takes the one that
 * costs the least information (rows x weights of the values blanked) among
 * those where the small classes agreeing on what is kept, plus a class of k
 * or more already there, would hold k rows; if none does, it blanks them all.
 * Classes that still fall short go round again with what they have left.
 * Returns false when out of memory. */
static bool local_suppression(const search_ctx *x, tuple_set *ts)
{
    int nq = x->nq;
    uint32_t *small = NULL;
    keyed *order = NULL;
    potential_index *pi = calloc(1, sizeof *pi);
    choices_cache *cache = calloc(1, sizeof *cache);
    uint16_t t[CTDC_MAX_QI], target[CTDC_MAX_QI];
    bool ok = pi && cache;
    for (int round = 0; ok && round <= 2 * nq + 2; round++) {
        size_t ns = 0;
        free(small);
        free(order);
        small = malloc((ts->n + 1) * sizeof *small);
        order = malloc((ts->n + 1) * sizeof *order);
        if (!small || !order) {
            ok = false;
            break;
        }
        for (size_t i = 0; i < ts->n; i++)
            if (ts->to[i] == i && ts->count[i] && ts->count[i] < (uint32_t)x->k &&
                !tuple_all_blank(ts->vals + i * (size_t)nq, nq))
                small[ns++] = (uint32_t)i;
        if (!ns)
            break;
        /* most filled first, then smallest, then in order: deterministic */
        for (size_t a = 0; a < ns; a++) {
            uint32_t i = small[a];
            order[a].key =
                (uint64_t)(nq - tuple_filled(ts->vals + i * (size_t)nq, nq)) << 32 | ts->count[i];
            order[a].index = i;
        }
        qsort(order, ns, sizeof *order, by_key);
        for (size_t a = 0; a < ns; a++)
            small[a] = order[a].index;
        potential_free(pi);
        pi->ts = ts;
        pi->small = small;
        pi->ns = ns;
        /* the moves are decided on the classes as the round began, then made */
        uint32_t *keep_of = malloc(ns * sizeof *keep_of);
        if (!keep_of) {
            ok = false;
            break;
        }
        for (size_t s = 0; ok && s < ns; s++) {
            uint32_t i = small[s];
            memcpy(t, ts->vals + i * (size_t)nq, (size_t)nq * sizeof *t);
            uint32_t filled = 0;
            for (int q = 0; q < nq; q++)
                filled |= t[q] ? 1u << q : 0;
            const blank_choices *bc = choices_for(x, cache, filled);
            if (!bc) {
                ok = false;
                break;
            }
            keep_of[s] = 0; /* all blank when nothing smaller reaches k */
            for (size_t a = 0; a < bc->n; a++) {
                uint32_t pot = potential_of(pi, nq, bc->keep[a], t);
                if (pot == UINT32_MAX) {
                    ok = false;
                    break;
                }
                project(t, nq, bc->keep[a], target);
                int64_t j = ts_find(ts, target);
                if (j >= 0 && ts->to[j] == (uint32_t)j && ts->count[j] >= (uint32_t)x->k)
                    pot += ts->count[j];
                if (pot >= (uint32_t)x->k) {
                    keep_of[s] = bc->keep[a];
                    break;
                }
            }
        }
        size_t moved = 0;
        for (size_t s = 0; ok && s < ns; s++) {
            uint32_t i = small[s];
            if (ts->to[i] != i)
                continue;
            project(ts->vals + i * (size_t)nq, nq, keep_of[s], target);
            int64_t j = ts_intern(ts, target); /* may move ts->vals */
            if (j < 0) {
                ok = false;
                break;
            }
            uint32_t dest = ts_resolve(ts, (uint32_t)j);
            if (dest == i)
                continue;
            ts->count[dest] += ts->count[i];
            ts->count[i] = 0;
            ts->to[i] = dest;
            moved++;
        }
        free(keep_of);
        if (!moved)
            break;
    }
    if (pi)
        potential_free(pi);
    if (cache)
        choices_free(cache);
    free(pi);
    free(cache);
    free(small);
    free(order);
    return ok;
}

/* Gives values back after local suppression: in a class of k rows or more
 * where a quasi-identifier is blank, the rows that share one value of it
 * (before suppression) get it back when they are k or more and the rows left
 * in the class are none or k or more, so no class falls below k.  A twin
 * comes back with its pair; ageBroad only where majorityStatus is given.
 * Repeated while it gives anything back (at most a few passes).  Returns
 * false when out of memory. */
static bool restore_values(const search_ctx *x, plan *pl)
{
    int nq = x->nq;
    size_t nb = x->base->n;
    tuple_set *ts = &pl->ts;
    uint32_t *order = malloc((nb + 1) * sizeof *order), *start = NULL, *fin = NULL;
    typedef struct {
        uint32_t value, rows;
    } group;
    group *groups = malloc((nb + 1) * sizeof *groups);
    bool ok = order && groups;
    uint16_t f_vals[CTDC_MAX_QI];
    for (int pass = 0; ok && pass < 4; pass++) {
        size_t restored = 0;
        free(start);
        free(fin);
        start = calloc(ts->n + 2, sizeof *start);
        fin = malloc((nb + 1) * sizeof *fin);
        if (!start || !fin) {
            ok = false;
            break;
        }
        /* the base tuples of each final class, by counting sort */
        for (size_t b = 0; b < nb; b++) {
            fin[b] = ts_resolve(ts, pl->of_base[b]);
            start[fin[b] + 1]++;
        }
        size_t nclasses = ts->n;
        for (size_t f = 0; f < nclasses; f++)
            start[f + 1] += start[f];
        uint32_t *fill = malloc((nclasses + 1) * sizeof *fill);
        if (!fill) {
            ok = false;
            break;
        }
        memcpy(fill, start, (nclasses + 1) * sizeof *fill);
        for (size_t b = 0; b < nb; b++)
            order[fill[fin[b]]++] = (uint32_t)b;
        free(fill);
        for (size_t f = 0; ok && f < nclasses; f++) {
            if (ts->to[f] != f || ts->count[f] < (uint32_t)x->k)
                continue;
            for (int q = 0; ok && q < nq; q++) {
                const qi_col *c = &x->qs[q];
                memcpy(f_vals, ts->vals + f * (size_t)nq, (size_t)nq * sizeof *f_vals);
                if (f_vals[q] || (c->twin >= 0 && c->twin < q))
                    continue;
                bool coarser_blank = false;
                for (int q2 = 0; q2 < nq; q2++)
                    coarser_blank = coarser_blank || (x->qs[q2].finer == q && !f_vals[q2]);
                if (coarser_blank)
                    continue;
                /* the rows still in f, grouped by their value of q (and its twin) */
                size_t ng = 0;
                for (uint32_t a = start[f]; a < start[f + 1]; a++) {
                    uint32_t b = order[a];
                    if (fin[b] != f)
                        continue;
                    const uint16_t *bt = x->base->vals + (size_t)b * nq;
                    uint32_t v = qi_general(c, bt[q], x->k);
                    if (c->twin >= 0)
                        v |= (uint32_t)qi_general(&x->qs[c->twin], bt[c->twin], x->k) << 16;
                    if (!v)
                        continue;
                    size_t g = 0;
                    while (g < ng && groups[g].value != v)
                        g++;
                    if (g == ng)
                        groups[ng++] = (group){v, 0};
                    groups[g].rows += x->base->count[b];
                }
                for (size_t g = 0; g < ng; g++) {
                    uint32_t rest = ts->count[f] - groups[g].rows;
                    if (groups[g].rows < (uint32_t)x->k || (rest && rest < (uint32_t)x->k))
                        continue;
                    uint16_t target[CTDC_MAX_QI];
                    memcpy(target, f_vals, sizeof target);
                    target[q] = (uint16_t)(groups[g].value & 0xffff);
                    if (c->twin >= 0)
                        target[c->twin] = (uint16_t)(groups[g].value >> 16);
                    int64_t j = ts_find(ts, target);
                    if (j >= 0 && ts->to[j] != (uint32_t)j)
                        continue; /* its rows went elsewhere: leave it */
                    if (j < 0 && (j = ts_intern(ts, target)) < 0) {
                        ok = false;
                        break;
                    }
                    for (uint32_t a = start[f]; a < start[f + 1]; a++) {
                        uint32_t b = order[a];
                        if (fin[b] != f)
                            continue;
                        const uint16_t *bt = x->base->vals + (size_t)b * nq;
                        uint32_t v = qi_general(c, bt[q], x->k);
                        if (c->twin >= 0)
                            v |= (uint32_t)qi_general(&x->qs[c->twin], bt[c->twin], x->k) << 16;
                        if (v != groups[g].value)
                            continue;
                        pl->of_base[b] = (uint32_t)j;
                        fin[b] = (uint32_t)j;
                        ts->count[f] -= x->base->count[b];
                        ts->count[j] += x->base->count[b];
                    }
                    restored++;
                }
            }
        }
        if (!restored)
            break;
    }
    free(order);
    free(groups);
    free(start);
    free(fin);
    return ok;
}

/* Builds and scores the candidate for the current global levels of x->qs. */
static bool plan_build(const search_ctx *x, plan *pl)
{
    int nq = x->nq;
    memset(pl, 0, sizeof *pl);
    pl->ts.nq = nq;
    pl->of_base = malloc((x->base->n + 1) * sizeof *pl->of_base);
    if (!pl->of_base)
        return false;
    uint16_t t[CTDC_MAX_QI];
    for (size_t b = 0; b < x->base->n; b++) {
        const uint16_t *bt = x->base->vals + b * (size_t)nq;
        for (int q = 0; q < nq; q++)
            t[q] = qi_general(&x->qs[q], bt[q], x->k);
        int64_t j = ts_intern(&pl->ts, t);
        if (j < 0)
            return false;
        pl->ts.count[j] += x->base->count[b];
        pl->of_base[b] = (uint32_t)j;
    }
    if (!local_suppression(x, &pl->ts) || !restore_values(x, pl))
        return false;
    memset(t, 0, sizeof t);
    pl->blank_tuple = ts_find(&pl->ts, t);
    pl->drop_blank = pl->blank_tuple >= 0 && pl->ts.count[pl->blank_tuple] < (uint32_t)x->k;
    for (size_t b = 0; b < x->base->n; b++) {
        uint32_t f = ts_resolve(&pl->ts, pl->of_base[b]);
        const uint16_t *ft = pl->ts.vals + f * (size_t)nq;
        size_t rows = x->base->count[b];
        if ((int64_t)f == pl->blank_tuple && pl->drop_blank) {
            pl->dropped += rows;
            continue;
        }
        for (int q = 0; q < nq; q++)
            if (ft[q])
                pl->info += (double)rows * x->qs[q].weight;
    }
    pl->feasible = pl->dropped <= x->budget;
    return true;
}

/* Hill-climbing over the global levels: from no global generalisation, take
 * the one-level step (a twin pair steps together) whose plan keeps the most
 * information (a plan within the budget of rows left out before one over it)
 * while it improves on the current plan or the current plan is over budget. */
static bool plan_search(search_ctx *x, qi_col *qs, plan *best)
{
    if (!plan_build(x, best))
        return false;
    for (int step = 0; step < 2 * x->nq; step++) {
        plan cand_best = {0};
        int chosen = -1;
        for (int q = 0; q < x->nq; q++) {
            int twin = qs[q].twin;
            if (qs[q].level >= 2 || (twin >= 0 && twin < q))
                continue;
            qs[q].level++;
            if (twin >= 0)
                qs[twin].level++;
            plan cand;
            bool ok = plan_build(x, &cand);
            qs[q].level--;
            if (twin >= 0)
                qs[twin].level--;
            if (!ok) {
                plan_free(&cand);
                plan_free(&cand_best);
                return false;
            }
            bool better = chosen < 0 || (cand.feasible && !cand_best.feasible) ||
                          (cand.feasible == cand_best.feasible && cand.info > cand_best.info);
            if (better) {
                plan_free(&cand_best);
                cand_best = cand;
                chosen = q;
            } else {
                plan_free(&cand);
            }
        }
        bool improves =
            chosen >= 0 && (!best->feasible || (cand_best.feasible && cand_best.info > best->info));
        if (!improves) {
            plan_free(&cand_best);
            break;
        }
        qs[chosen].level++;
        if (qs[chosen].twin >= 0)
            qs[qs[chosen].twin].level++;
        plan_free(best);
        *best = cand_best;
    }
    return true;
}

static int qi_index(const char *name)
{
    for (int i = 0; i < CTDC_NVARS; i++)
        if (strcmp(ctdc_variables[i], name) == 0)
            return i;
    return -1;
}

int ctdc_min_k(void)
{
    const char *s = getenv("AMPARO_CTDC_MIN_K");
    char *end;
    long v = s && *s ? strtol(s, &end, 10) : 0;
    return s && *s && !*end && v >= 2 && v <= 1000 ? (int)v : CTDC_DEFAULT_K;
}

/* ==== writing ====================================================================== */

/* A line being built: fields are appended, then the line is written at once. */
typedef struct {
    char *data;
    size_t len, cap;
} line_buf;

static bool line_reserve(line_buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more)
        cap *= 2;
    char *g = realloc(b->data, cap);
    if (!g)
        return false;
    b->data = g;
    b->cap = cap;
    return true;
}

static void line_field(line_buf *b, const char *s, char delim)
{
    size_t n = strlen(s);
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!line_reserve(b, quote ? 2 * n + 3 : n + 1))
        return;
    if (!quote) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return;
    }
    b->data[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            b->data[b->len++] = '"';
        b->data[b->len++] = s[i];
    }
    b->data[b->len++] = '"';
}

static void line_char(line_buf *b, char ch)
{
    if (line_reserve(b, 1))
        b->data[b->len++] = ch;
}

/* The rules for a caller: a role without case access cannot go below the
 * configured minimum k nor leave out a default quasi-identifier. */
static amp_code check_policy(bool controlled, int k, int k_min, const qi_col *qs, int nq,
                             amp_err *err)
{
    if (!controlled)
        return AMP_OK;
    if (k < k_min) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "k must be at least %d (AMPARO_CTDC_MIN_K) for a role without case access", k_min);
        amp_err_field(err, "k", "min", msg);
        return amp_err_set(err, AMP_EINVALID, "%s", msg);
    }
    char missing[400] = "";
    for (int i = 0; ctdc_default_qi[i]; i++) {
        int v = qi_index(ctdc_default_qi[i]);
        bool in = false;
        for (int q = 0; q < nq; q++)
            in = in || qs[q].var == v;
        if (!in) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "",
                     ctdc_default_qi[i]);
        }
    }
    if (missing[0]) {
        char msg[600];
        snprintf(msg, sizeof msg,
                 "the quasi-identifiers must include the default ones for a role without case "
                 "access (others may be added); missing: %s",
                 missing);
        amp_err_field(err, "qi", "required", msg);
        return amp_err_set(err, AMP_EINVALID, "%s", msg);
    }
    return AMP_OK;
}

/* Links between quasi-identifiers the CTDC codings imply: majorityEntry is
 * written as majorityStatusAtExploit (so they are blanked together), and
 * majorityStatus is the coarser form of ageBroad (blanked only once ageBroad
 * is). */
static void qi_link(qi_col *qs, int nq)
{
    for (int q = 0; q < nq; q++)
        qs[q].twin = qs[q].finer = -1;
    for (int a = 0; a < nq; a++)
        for (int b = 0; b < nq; b++) {
            if ((qs[a].var == V_MAJ_EXPLOIT && qs[b].var == V_MAJ_ENTRY) ||
                (qs[a].var == V_MAJ_ENTRY && qs[b].var == V_MAJ_EXPLOIT))
                qs[a].twin = b;
            if (qs[a].var == V_MAJ && qs[b].var == V_AGE)
                qs[a].finer = b;
        }
}

/* Entropy in bits of the variable's values (blank left out); at least 0.1, so
 * that no value is free to blank. */
static double qi_entropy(const qi_col *q)
{
    size_t filled = 0;
    for (size_t c = 1; c <= q->n; c++)
        filled += q->freq[c];
    double h = 0;
    for (size_t c = 1; c <= q->n && filled; c++) {
        if (q->freq[c]) {
            double pr = (double)q->freq[c] / (double)filled;
            h -= pr * log2(pr);
        }
    }
    return h > 0.1 ? h : 0.1;
}

static bool is_year(const char *s)
{
    return strlen(s) == 4 && strspn(s, "0123456789") == 4;
}

/* The registration years asked for: written YYYY, the first not after the last. */
static amp_code check_years(const ctdc_options *opt, amp_err *err)
{
    const char *bad = opt->year_from && !is_year(opt->year_from) ? "from_year"
                      : opt->year_to && !is_year(opt->year_to)   ? "to_year"
                                                                 : NULL;
    if (bad) {
        amp_err_field(err, bad, "year", "a year is written YYYY");
        return amp_err_set(err, AMP_EINVALID, "%s must be a year written YYYY", bad);
    }
    if (opt->year_from && opt->year_to && strcmp(opt->year_from, opt->year_to) > 0) {
        amp_err_field(err, "to_year", "range", "to_year is before from_year");
        return amp_err_set(err, AMP_EINVALID, "to_year (%s) is before from_year (%s)", opt->year_to,
                           opt->year_from);
    }
    return AMP_OK;
}

amp_code ctdc_export(core *c, const principal *p, const ctdc_options *opt, FILE *out,
                     json_t **summary, amp_err *err)
{
    *summary = NULL;
    amp_code code = authz_require(p, ACT_EXPORT, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    int k_min = ctdc_min_k();
    bool controlled = report_is_controlled(p, false);
    int k = opt->k ? opt->k : k_min;
    if (k < 2 || k > 1000) {
        amp_err_field(err, "k", "range", "k must be 2 to 1000");
        return amp_err_set(err, AMP_EINVALID, "k must be 2 to 1000");
    }
    double max_sup = opt->max_suppress > 0 ? opt->max_suppress : 0.02;
    char delim = opt->delimiter ? opt->delimiter : ';';
    qi_col qs[CTDC_MAX_QI];
    int nq = 0;
    memset(qs, 0, sizeof qs);
    char *list = strdup(opt->qi ? opt->qi : "");
    if (!list)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    if (opt->qi) {
        char *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int v = qi_index(t);
            bool dup = false;
            for (int i = 0; i < nq; i++)
                dup = dup || qs[i].var == v;
            if (v < 0 || v == V_SOURCE || nq == CTDC_MAX_QI || dup) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "'%.60s' is not a CTDC variable that can be a "
                         "quasi-identifier (or is given twice)",
                         t);
                amp_err_field(err, "qi", "enum", msg);
                free(list);
                return amp_err_set(err, AMP_EINVALID, "%s", msg);
            }
            qs[nq++].var = v;
        }
    } else {
        for (int i = 0; ctdc_default_qi[i]; i++)
            qs[nq++].var = qi_index(ctdc_default_qi[i]);
    }
    free(list);
    if ((code = check_policy(controlled, k, k_min, qs, nq, err)) != AMP_OK)
        return code;
    if ((code = check_years(opt, err)) != AMP_OK)
        return code;
    qi_link(qs, nq);

    colcache *cc = reports_cache(c);
    if (!cc)
        return amp_err_set(err, AMP_EINTERNAL, "out of memory");
    if ((code = colcache_sync(cc, err)) != AMP_OK)
        return code;
    colcache_lock_read(cc);
    mapping m;
    mapping_init(&m, cc);
    size_t total = colcache_rows(cc), n = 0, no_consent = 0;
    uint32_t *rows = malloc((total + 1) * sizeof *rows);
    code = rows ? AMP_OK : amp_err_set(err, AMP_EINTERNAL, "out of memory");
    int yfrom = opt->year_from ? atoi(opt->year_from) : 0,
        yto = opt->year_to ? atoi(opt->year_to) : 9999;
    for (size_t r = 0; r < total && code == AMP_OK; r++) {
        uint8_t fl = colcache_flags(cc, r);
        if (!(fl & CCF_LIVE))
            continue;
        int year = colcache_regdate(cc, r) / 10000;
        if (year < yfrom || year > yto)
            continue;
        if (!(fl & CCF_STATS_CONSENT)) {
            no_consent++;
            continue;
        }
        rows[n++] = (uint32_t)r;
    }
    /* materialise the quasi-identifiers */
    for (int q = 0; q < nq && code == AMP_OK; q++) {
        qs[q].codes = malloc((n + 1) * sizeof *qs[q].codes);
        if (!qs[q].codes)
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    }
    const char *v[CTDC_NVARS];
    row_text tx;
    for (size_t i = 0; i < n && code == AMP_OK; i++) {
        row_values(&m, rows[i], v, &tx);
        for (int q = 0; q < nq; q++)
            qs[q].codes[i] = qi_intern(&qs[q], v[qs[q].var]);
    }
    for (int q = 0; q < nq && code == AMP_OK; q++) {
        qs[q].freq = calloc(qs[q].n + 1, sizeof *qs[q].freq);
        if (!qs[q].freq) {
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++)
            qs[q].freq[qs[q].codes[i]]++;
        qs[q].weight = qi_entropy(&qs[q]);
    }
    /* the distinct tuples of the rows: everything after works on them */
    tuple_set base = {.nq = nq};
    uint32_t *base_of = malloc((n + 1) * sizeof *base_of);
    if (code == AMP_OK && !base_of)
        code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    uint16_t t[CTDC_MAX_QI];
    for (size_t i = 0; i < n && code == AMP_OK; i++) {
        for (int q = 0; q < nq; q++)
            t[q] = qs[q].codes[i];
        int64_t b = ts_intern(&base, t);
        if (b < 0) {
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
            break;
        }
        base.count[b]++;
        base_of[i] = (uint32_t)b;
    }
    if (code == AMP_OK && !base.slot && !ts_rehash(&base, 1024))
        code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    plan pl = {0};
    search_ctx sx = {
        .qs = qs, .nq = nq, .k = k, .base = &base, .budget = (size_t)(max_sup * (double)n)};
    if (code == AMP_OK && !plan_search(&sx, qs, &pl))
        code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    size_t written = 0, smallest = 0, rows_blanked = 0, rows_dropped = 0, rows_touched = 0;
    line_buf lb = {0};
    if (code == AMP_OK) {
        for (int i = 0; i < CTDC_NVARS && !opt->summary_only; i++) {
            if (i)
                fputc(delim, out);
            fputs(ctdc_variables[i], out);
        }
        if (!opt->summary_only)
            fputs("\r\n", out);
        for (size_t i = 0; i < n; i++) {
            uint32_t g = pl.of_base[base_of[i]], f = ts_resolve(&pl.ts, g);
            bool all_blank = (int64_t)f == pl.blank_tuple;
            if (all_blank && pl.drop_blank) {
                rows_dropped++;
                continue;
            }
            if (all_blank && (int64_t)g != pl.blank_tuple)
                rows_blanked++;
            const uint16_t *ft = pl.ts.vals + f * (size_t)nq;
            row_values(&m, rows[i], v, &tx);
            bool touched = false;
            for (int q = 0; q < nq; q++) {
                uint16_t code_out = ft[q];
                if (!code_out && v[qs[q].var][0]) {
                    qs[q].blanked++;
                    touched = true;
                }
                qs[q].kept += code_out != 0;
                v[qs[q].var] = code_out ? qs[q].vals[code_out - 1] : "";
            }
            rows_touched += touched;
            if (!smallest || pl.ts.count[f] < smallest)
                smallest = pl.ts.count[f];
            lb.len = 0;
            for (int j = 0; j < CTDC_NVARS; j++) {
                if (j)
                    line_char(&lb, delim);
                line_field(&lb, v[j], delim);
            }
            line_char(&lb, '\r');
            line_char(&lb, '\n');
            if (!opt->summary_only)
                fwrite(lb.data, 1, lb.len, out);
            written++;
        }
        if (fflush(out) != 0 || ferror(out))
            code = amp_err_set(err, AMP_EINTERNAL, "the file could not be written");
    }
    colcache_unlock(cc);
    if (code == AMP_OK) {
        json_t *qi = json_array(), *gen = json_object(), *bl = json_object(), *kept = json_object();
        for (int q = 0; q < nq; q++) {
            const char *name = ctdc_variables[qs[q].var];
            json_array_append_new(qi, json_string(name));
            json_object_set_new(gen, name,
                                json_string(qs[q].level == 0   ? "none"
                                            : qs[q].level == 1 ? "rare values blanked"
                                                               : "variable blanked"));
            json_object_set_new(bl, name, json_integer((json_int_t)qs[q].blanked));
            json_object_set_new(kept, name, json_integer((json_int_t)qs[q].kept));
        }
        char policy[200];
        if (controlled)
            snprintf(policy, sizeof policy,
                     "minimum enforced: k at least %d and the default quasi-identifiers "
                     "(role without case access)",
                     k_min);
        else
            snprintf(policy, sizeof policy,
                     "caller's choice: k and quasi-identifiers are not held to the minimum "
                     "(role with case access or command line)%s",
                     k < k_min ? "; k is below the minimum" : "");
        *summary = json_pack(
            "{s:i, s:i, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:f}", "k", k,
            "k_minimum", k_min, "policy", policy, "quasi_identifiers", qi, "rows",
            (json_int_t)written, "rows_excluded_without_consent", (json_int_t)no_consent,
            "generalised", gen, "values_blanked", bl, "values_kept", kept,
            "rows_with_values_blanked", (json_int_t)rows_touched, "rows_locally_suppressed",
            (json_int_t)rows_blanked, "rows_dropped", (json_int_t)rows_dropped, "smallest_class",
            (json_int_t)smallest, "max_suppress", max_sup);
        json_t *detail = json_pack("{s:i, s:I, s:b}", "k", k, "rows", (json_int_t)written,
                                   "summary_only", opt->summary_only);
        amp_code ac = audit_log(c, p, "export.ctdc", "export", "ctdc", detail, err);
        json_decref(detail);
        if (ac != AMP_OK) {
            json_decref(*summary);
            *summary = NULL;
            code = ac;
        }
    }
    for (int q = 0; q < nq; q++) {
        for (size_t i = 0; i < qs[q].n; i++)
            free(qs[q].vals[i]);
        free(qs[q].vals);
        free(qs[q].codes);
        free(qs[q].freq);
    }
    plan_free(&pl);
    ts_free(&base);
    free(base_of);
    free(lb.data);
    free(rows);
    return code;
}
