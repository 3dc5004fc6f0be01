/* ctdc.c — the CTDC global dataset export with k-anonymisation (see ctdc.h).
 *
 * Rows come from the column cache (non-identifying facts only).  Sections: the
 * layout and the mapping of HTCDS codes to CTDC codings; one row's values; the
 * k-anonymisation; writing. */
#include "core/ctdc.h"
#include "core/audit.h"
#include "core/colcache.h"
#include "core/report.h"

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
            v[V_MOC_FIRST + i] = flag[on];
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
    for (int i = 0; i < 5; i++)
        v[V_REL_FIRST + i] = flag[i == r];
}

/* ==== k-anonymisation =============================================================== */

typedef struct {
    int var;     /* index into ctdc_variables */
    char **vals; /* dictionary: code-1 -> value */
    size_t n, cap;
    uint16_t *codes; /* per exported row */
    int level;       /* 0 exact, 1 rare values blanked, 2 blanked */
    uint16_t *gen;   /* code -> generalised code (0 blank) */
    size_t *freq;    /* rows per code */
    size_t blanked;  /* values blanked by generalisation and suppression */
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

static void qi_set_level(qi_col *q, int level, int k)
{
    q->level = level;
    for (size_t c = 0; c <= q->n; c++) {
        if (c == 0 || level >= 2)
            q->gen[c] = 0;
        else if (level == 1)
            q->gen[c] = q->freq[c] < (size_t)k ? 0 : (uint16_t)c;
        else
            q->gen[c] = (uint16_t)c;
    }
}

/* Equivalence classes by a hash of the generalised tuple; counts per row's class. */
typedef struct {
    uint64_t *keys;
    uint32_t *counts;
    size_t mask;
} class_table;

static uint64_t tuple_hash(const qi_col *qs, int nq, size_t row, uint64_t *k2)
{
    uint64_t h = 0x9e3779b97f4a7c15ull, g = 0;
    for (int q = 0; q < nq; q++) {
        uint64_t c = qs[q].gen[qs[q].codes[row]];
        h = (h ^ c) * 0x100000001b3ull;
        h ^= h >> 29;
        g = g * 65537 + c;
    }
    *k2 = g;
    return h ? h : 1;
}

/* Fills class sizes per row into size[row]; returns the number of distinct classes. */
static size_t classify(const qi_col *qs, int nq, size_t nrows, const bool *alive, class_table *t,
                       uint32_t *slot_of, uint32_t *size)
{
    memset(t->keys, 0, (t->mask + 1) * sizeof *t->keys);
    memset(t->counts, 0, (t->mask + 1) * sizeof *t->counts);
    size_t classes = 0;
    for (size_t r = 0; r < nrows; r++) {
        if (!alive[r])
            continue;
        uint64_t k2, h = tuple_hash(qs, nq, r, &k2);
        /* the key stores the hash; collisions of two different tuples on 64 bits
         * are checked with the second key folded in */
        uint64_t key = h ^ (k2 * 0xff51afd7ed558ccdull);
        if (!key)
            key = 1;
        size_t i = key & t->mask;
        while (t->keys[i] && t->keys[i] != key)
            i = (i + 1) & t->mask;
        if (!t->keys[i]) {
            t->keys[i] = key;
            classes++;
        }
        t->counts[i]++;
        slot_of[r] = (uint32_t)i;
    }
    for (size_t r = 0; r < nrows; r++)
        size[r] = alive[r] ? t->counts[slot_of[r]] : 0;
    return classes;
}

static int qi_index(const char *name)
{
    for (int i = 0; i < CTDC_NVARS; i++)
        if (strcmp(ctdc_variables[i], name) == 0)
            return i;
    return -1;
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

amp_code ctdc_export(core *c, const principal *p, const ctdc_options *opt, FILE *out,
                     json_t **summary, amp_err *err)
{
    *summary = NULL;
    amp_code code = authz_require(p, ACT_EXPORT, RES_REPORT, err);
    if (code != AMP_OK)
        return code;
    int k = opt->k ? opt->k : CTDC_DEFAULT_K;
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
        qs[q].gen = calloc(qs[q].n + 1, sizeof *qs[q].gen);
        qs[q].freq = calloc(qs[q].n + 1, sizeof *qs[q].freq);
        if (!qs[q].gen || !qs[q].freq) {
            code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++)
            qs[q].freq[qs[q].codes[i]]++;
        qi_set_level(&qs[q], 0, k);
    }
    class_table ct = {0};
    size_t slots = 1024;
    while (slots < n * 2)
        slots *= 2;
    ct.mask = slots - 1;
    ct.keys = malloc(slots * sizeof *ct.keys);
    ct.counts = malloc(slots * sizeof *ct.counts);
    uint32_t *slot_of = malloc((n + 1) * sizeof *slot_of);
    uint32_t *size = malloc((n + 1) * sizeof *size);
    bool *alive = malloc(n + 1);
    bool *blank = calloc(n + 1, 1);
    if (code == AMP_OK && (!ct.keys || !ct.counts || !slot_of || !size || !alive || !blank))
        code = amp_err_set(err, AMP_EINTERNAL, "out of memory");
    size_t violating = 0, rows_blanked = 0, rows_dropped = 0;
    if (code == AMP_OK) {
        memset(alive, 1, n + 1);
        for (;;) {
            classify(qs, nq, n, alive, &ct, slot_of, size);
            violating = 0;
            for (size_t i = 0; i < n; i++)
                violating += size[i] < (uint32_t)k;
            if ((double)violating <= max_sup * (double)n)
                break;
            /* generalise the quasi-identifier whose next level leaves the fewest
             * rows in small classes (ties: the one with more distinct values) */
            int best = -1;
            size_t best_viol = 0, best_distinct = 0;
            for (int q = 0; q < nq; q++) {
                if (qs[q].level >= 2)
                    continue;
                int was = qs[q].level;
                qi_set_level(&qs[q], was + 1, k);
                classify(qs, nq, n, alive, &ct, slot_of, size);
                size_t viol = 0;
                for (size_t i = 0; i < n; i++)
                    viol += size[i] < (uint32_t)k;
                size_t distinct = 0;
                for (size_t c2 = 1; c2 <= qs[q].n; c2++)
                    distinct += qs[q].freq[c2] > 0;
                qi_set_level(&qs[q], was, k);
                if (best < 0 || viol < best_viol ||
                    (viol == best_viol && distinct > best_distinct)) {
                    best = q;
                    best_viol = viol;
                    best_distinct = distinct;
                }
            }
            if (best < 0)
                break;
            qi_set_level(&qs[best], qs[best].level + 1, k);
        }
        /* local suppression: blank the quasi-identifiers of rows in small classes */
        for (size_t i = 0; i < n; i++) {
            if (size[i] < (uint32_t)k) {
                blank[i] = true;
                rows_blanked++;
            }
        }
        if (rows_blanked) {
            /* the blanked rows form one class of their own with any row whose
             * generalised tuple is entirely blank */
            size_t all_blank = 0;
            for (size_t i = 0; i < n; i++) {
                bool every = true;
                for (int q = 0; q < nq && every && !blank[i]; q++)
                    every = qs[q].gen[qs[q].codes[i]] == 0;
                all_blank += every;
            }
            if (all_blank < (size_t)k) {
                for (size_t i = 0; i < n; i++) {
                    bool every = true;
                    for (int q = 0; q < nq && every && !blank[i]; q++)
                        every = qs[q].gen[qs[q].codes[i]] == 0;
                    if (every) {
                        alive[i] = false;
                        rows_dropped++;
                    }
                }
            }
        }
    }
    size_t written = 0, smallest = 0;
    line_buf lb = {0};
    if (code == AMP_OK) {
        for (int i = 0; i < CTDC_NVARS; i++) {
            if (i)
                fputc(delim, out);
            fputs(ctdc_variables[i], out);
        }
        fputs("\r\n", out);
        for (size_t i = 0; i < n; i++) {
            if (!alive[i])
                continue;
            row_values(&m, rows[i], v, &tx);
            for (int q = 0; q < nq; q++) {
                uint16_t g = blank[i] ? 0 : qs[q].gen[qs[q].codes[i]];
                if (!g && v[qs[q].var][0])
                    qs[q].blanked++;
                v[qs[q].var] = g ? qs[q].vals[g - 1] : "";
            }
            lb.len = 0;
            for (int j = 0; j < CTDC_NVARS; j++) {
                if (j)
                    line_char(&lb, delim);
                line_field(&lb, v[j], delim);
            }
            line_char(&lb, '\r');
            line_char(&lb, '\n');
            fwrite(lb.data, 1, lb.len, out);
            written++;
        }
        if (fflush(out) != 0 || ferror(out))
            code = amp_err_set(err, AMP_EINTERNAL, "the file could not be written");
        /* the smallest class of the file as written */
        for (size_t i = 0; i < n; i++) {
            if (alive[i] && blank[i]) {
                for (int q = 0; q < nq; q++)
                    qs[q].codes[i] = 0;
            }
        }
        classify(qs, nq, n, alive, &ct, slot_of, size);
        for (size_t i = 0; i < n; i++)
            if (alive[i] && (!smallest || size[i] < smallest))
                smallest = size[i];
    }
    colcache_unlock(cc);
    if (code == AMP_OK) {
        json_t *qi = json_array(), *gen = json_object(), *bl = json_object();
        for (int q = 0; q < nq; q++) {
            const char *name = ctdc_variables[qs[q].var];
            json_array_append_new(qi, json_string(name));
            json_object_set_new(gen, name,
                                json_string(qs[q].level == 0   ? "none"
                                            : qs[q].level == 1 ? "rare values blanked"
                                                               : "variable blanked"));
            json_object_set_new(bl, name, json_integer((json_int_t)qs[q].blanked));
        }
        *summary = json_pack("{s:i, s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:f}", "k", k,
                             "quasi_identifiers", qi, "rows", (json_int_t)written,
                             "rows_excluded_without_consent", (json_int_t)no_consent, "generalised",
                             gen, "values_blanked", bl, "rows_locally_suppressed",
                             (json_int_t)rows_blanked, "rows_dropped", (json_int_t)rows_dropped,
                             "smallest_class", (json_int_t)smallest, "max_suppress", max_sup);
        json_t *detail = json_pack("{s:i, s:I}", "k", k, "rows", (json_int_t)written);
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
        free(qs[q].gen);
        free(qs[q].freq);
    }
    free(lb.data);
    free(ct.keys);
    free(ct.counts);
    free(slot_of);
    free(size);
    free(alive);
    free(blank);
    free(rows);
    return code;
}
