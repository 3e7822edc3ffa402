/* sla_policy.c - escalation policies and business time (sla_policy.h).
 *
 * Business time is walked a day at a time in the policy's time zone, so
 * daylight saving and holidays fall out of GDateTime; the walk is bounded
 * (MAX_DAYS) so a policy with no open hour cannot loop forever.
 */
#include "tickets/sla_policy.h"

#include <stdio.h>
#include <string.h>

#define MAX_DAYS 3660

struct TgSlaPolicies {
  GPtrArray *policies; /* TgSlaPolicy* */
};

const char tg_sla_default_text[] =
    "# The embedded default: around the clock, two steps up when nobody\n"
    "# answers the customer.\n"
    "policy \"standard\"\n"
    "    hours always\n"
    "    level 2 escalation-l2@localhost after 30m without first-response\n"
    "    level 3 escalation-l3@localhost after 2h without first-response\n";

static void level_free(gpointer p) {
  TgSlaLevel *l = p;
  g_strfreev(l->targets);
  g_free(l);
}

static void policy_free(gpointer p) {
  TgSlaPolicy *pol = p;
  g_free(pol->name);
  g_free(pol->file);
  if (pol->tz)
    g_time_zone_unref(pol->tz);
  g_array_unref(pol->holidays);
  g_ptr_array_unref(pol->levels);
  g_free(pol);
}

void tg_sla_policies_free(TgSlaPolicies *p) {
  if (!p)
    return;
  g_ptr_array_unref(p->policies);
  g_free(p);
}

typedef struct {
  const char *name;
  guint line;
  GPtrArray *errors;
} Parser;

static void error_at(Parser *ps, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void error_at(Parser *ps, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_ptr_array_add(ps->errors, g_strdup_printf("%s:%u: %s", ps->name, ps->line, msg));
}

static gboolean parse_duration(const char *s, guint *out) {
  char *end;
  if (!s || !g_ascii_isdigit(*s))
    return FALSE;
  guint64 v = g_ascii_strtoull(s, &end, 10);
  guint64 mul = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400
              : *end == 's' ? 1 : 0;
  if (!mul || end[1] || v * mul > G_MAXUINT)
    return FALSE;
  *out = (guint)(v * mul);
  return TRUE;
}

static int weekday_of(const char *s) {
  static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; i++)
    if (g_ascii_strcasecmp(s, days[i]) == 0)
      return i;
  return -1;
}

static gboolean parse_clock(const char *s, gint *min_r) {
  guint h, m;
  char tail;
  if (sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 24 || m > 59 || (h == 24 && m))
    return FALSE;
  *min_r = (gint)(h * 60 + m);
  return TRUE;
}

static void parse_hours(Parser *ps, TgSlaPolicy *pol, char **w, guint n) {
  if (n == 2 && g_ascii_strcasecmp(w[1], "always") == 0) {
    pol->always = TRUE;
    return;
  }
  pol->always = FALSE;
  if (n != 3) {
    error_at(ps, "hours: expected 'always' or DAYS HH:MM-HH:MM (e.g. mon-fri 09:00-18:00)");
    return;
  }
  g_auto(GStrv) days = g_strsplit(w[1], "-", 2);
  int from = weekday_of(days[0]), to = days[1] ? weekday_of(days[1]) : from;
  g_auto(GStrv) span = g_strsplit(w[2], "-", 2);
  gint open, close;
  if (from < 0 || to < 0) {
    error_at(ps, "hours: '%s' is not a day or range of days (mon..sun)", w[1]);
    return;
  }
  if (!span[1] || !parse_clock(span[0], &open) || !parse_clock(span[1], &close) ||
      close <= open) {
    error_at(ps, "hours: '%s' is not HH:MM-HH:MM with the end after the start", w[2]);
    return;
  }
  for (int d = from;; d = (d + 1) % 7) {
    pol->open_min[d] = open;
    pol->close_min[d] = close;
    if (d == to)
      break;
  }
}

static gint compare_u32(gconstpointer a, gconstpointer b) {
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  return x < y ? -1 : x > y;
}

static void parse_holidays(Parser *ps, TgSlaPolicy *pol, char **w, guint n) {
  for (guint i = 1; i < n; i++) {
    guint y, m, d;
    char tail;
    if (sscanf(w[i], "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 ||
        !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y)) {
      error_at(ps, "holidays: '%s' is not a date YYYY-MM-DD", w[i]);
      continue;
    }
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
    guint32 j = g_date_get_julian(&date);
    g_array_append_val(pol->holidays, j);
  }
  g_array_sort(pol->holidays, compare_u32);
}

static void parse_level(Parser *ps, TgSlaPolicy *pol, char **w, guint n) {
  /* level N ADDR[, ADDR...] after DUR without TRIGGER [notify-customer] */
  char *end;
  guint64 level = n > 1 ? g_ascii_strtoull(w[1], &end, 10) : 0;
  if (n < 2 || *end || level < 2 || level > 20) {
    error_at(ps, "level: expected a number from 2 to 20 (level 1 is the queue itself)");
    return;
  }
  guint i = 2;
  GPtrArray *targets = g_ptr_array_new();
  for (; i < n && g_ascii_strcasecmp(w[i], "after") != 0; i++) {
    g_auto(GStrv) parts = g_strsplit(w[i], ",", -1);
    for (guint k = 0; parts[k]; k++)
      if (parts[k][0]) {
        if (!strchr(parts[k], '@'))
          error_at(ps, "level %u: '%s' is not a mail address", (guint)level, parts[k]);
        g_ptr_array_add(targets, g_ascii_strdown(parts[k], -1));
      }
  }
  g_ptr_array_add(targets, NULL);
  g_auto(GStrv) tg = (char **)g_ptr_array_free(targets, FALSE);
  guint after = 0;
  if (!tg[0]) {
    error_at(ps, "level %u: no target address", (guint)level);
    return;
  }
  if (i + 4 > n || g_ascii_strcasecmp(w[i + 2], "without") != 0 ||
      !parse_duration(w[i + 1], &after)) {
    error_at(ps, "level %u: expected 'after DURATION without first-response|staff-update'",
             (guint)level);
    return;
  }
  TgSlaTrigger trigger;
  if (g_ascii_strcasecmp(w[i + 3], "first-response") == 0)
    trigger = TG_SLA_FIRST_RESPONSE;
  else if (g_ascii_strcasecmp(w[i + 3], "staff-update") == 0)
    trigger = TG_SLA_STAFF_UPDATE;
  else {
    error_at(ps, "level %u: trigger '%s' is not first-response or staff-update",
             (guint)level, w[i + 3]);
    return;
  }
  gboolean notify = FALSE;
  for (guint k = i + 4; k < n; k++) {
    if (g_ascii_strcasecmp(w[k], "notify-customer") == 0)
      notify = TRUE;
    else
      error_at(ps, "level %u: unexpected '%s'", (guint)level, w[k]);
  }
  for (guint k = 0; k < pol->levels->len; k++) {
    TgSlaLevel *prev = g_ptr_array_index(pol->levels, k);
    if (prev->level >= level) {
      error_at(ps, "level %u: levels must ascend (after level %u at line %u)",
               (guint)level, prev->level, prev->line);
      return;
    }
  }
  TgSlaLevel *l = g_new0(TgSlaLevel, 1);
  l->level = (guint)level;
  l->targets = g_steal_pointer(&tg);
  l->after = after;
  l->trigger = trigger;
  l->notify_customer = notify;
  l->line = ps->line;
  g_ptr_array_add(pol->levels, l);
}

static TgSlaPolicy *policy_new(const char *name, const char *file, guint line) {
  TgSlaPolicy *pol = g_new0(TgSlaPolicy, 1);
  pol->name = g_strdup(name);
  pol->file = g_strdup(file);
  pol->line = line;
  pol->tz = g_time_zone_new_utc();
  pol->always = TRUE;
  for (int d = 0; d < 7; d++)
    pol->open_min[d] = pol->close_min[d] = -1;
  pol->holidays = g_array_new(FALSE, FALSE, sizeof(guint32));
  pol->levels = g_ptr_array_new_with_free_func(level_free);
  return pol;
}

/* Splits on blanks, keeping "quoted strings" whole (without the quotes). */
static GStrv split_words(const char *line) {
  GPtrArray *w = g_ptr_array_new();
  const char *p = line;
  while (*p) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '#')
      break;
    const char *start = p;
    if (*p == '"') {
      const char *close = strchr(p + 1, '"');
      if (!close)
        close = p + strlen(p);
      g_ptr_array_add(w, g_strndup(p + 1, (gsize)(close - p - 1)));
      p = *close ? close + 1 : close;
      continue;
    }
    while (*p && *p != ' ' && *p != '\t')
      p++;
    g_ptr_array_add(w, g_strndup(start, (gsize)(p - start)));
  }
  g_ptr_array_add(w, NULL);
  return (GStrv)g_ptr_array_free(w, FALSE);
}

TgSlaPolicies *tg_sla_policies_parse(const char *name, const char *text,
                                     GPtrArray **errors_r) {
  Parser ps = {.name = name, .errors = g_ptr_array_new_with_free_func(g_free)};
  TgSlaPolicies *set = g_new0(TgSlaPolicies, 1);
  set->policies = g_ptr_array_new_with_free_func(policy_free);
  TgSlaPolicy *cur = NULL;
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    ps.line = i + 1;
    g_auto(GStrv) w = split_words(lines[i]);
    guint n = g_strv_length(w);
    if (n == 0)
      continue;
    gboolean indented = lines[i][0] == ' ' || lines[i][0] == '\t';
    if (!indented) {
      if (g_ascii_strcasecmp(w[0], "policy") != 0 || n != 2 || !w[1][0]) {
        error_at(&ps, "expected 'policy \"NAME\"' (settings go indented below it)");
        cur = NULL;
        continue;
      }
      if (tg_sla_policies_find(set, w[1]))
        error_at(&ps, "policy \"%s\" is defined twice", w[1]);
      cur = policy_new(w[1], name, ps.line);
      g_ptr_array_add(set->policies, cur);
      continue;
    }
    if (!cur) {
      error_at(&ps, "setting outside a policy");
      continue;
    }
    const char *k = w[0];
    if (g_ascii_strcasecmp(k, "timezone") == 0 && n == 2) {
      GTimeZone *tz = g_time_zone_new_identifier(w[1]);
      if (!tz) {
        error_at(&ps, "timezone: unknown zone '%s'", w[1]);
        continue;
      }
      g_time_zone_unref(cur->tz);
      cur->tz = tz;
    } else if (g_ascii_strcasecmp(k, "hours") == 0) {
      parse_hours(&ps, cur, w, n);
    } else if (g_ascii_strcasecmp(k, "holidays") == 0) {
      parse_holidays(&ps, cur, w, n);
    } else if (g_ascii_strcasecmp(k, "warn") == 0) {
      if (n != 3 || g_ascii_strcasecmp(w[2], "before") != 0 ||
          !parse_duration(w[1], &cur->warn_before))
        error_at(&ps, "warn: expected 'warn DURATION before'");
    } else if (g_ascii_strcasecmp(k, "keep-customer-informed") == 0) {
      if (n != 3 || g_ascii_strcasecmp(w[1], "every") != 0 ||
          !parse_duration(w[2], &cur->keep_informed) || !cur->keep_informed)
        error_at(&ps, "keep-customer-informed: expected 'keep-customer-informed every DURATION'");
    } else if (g_ascii_strcasecmp(k, "level") == 0) {
      parse_level(&ps, cur, w, n);
    } else {
      error_at(&ps, "unknown setting '%s' (timezone, hours, holidays, warn, "
                    "keep-customer-informed, level)", k);
    }
  }
  for (guint i = 0; i < set->policies->len; i++) {
    TgSlaPolicy *pol = g_ptr_array_index(set->policies, i);
    gboolean open = pol->always;
    for (int d = 0; d < 7 && !open; d++)
      open = pol->open_min[d] >= 0;
    if (!open) {
      ps.line = pol->line;
      error_at(&ps, "policy \"%s\": no business hours at all", pol->name);
    }
  }
  if (ps.errors->len) {
    tg_sla_policies_free(set);
    *errors_r = ps.errors;
    return NULL;
  }
  g_ptr_array_unref(ps.errors);
  *errors_r = NULL;
  return set;
}

TgSlaPolicies *tg_sla_policies_load(const char *path, GPtrArray **errors_r) {
  g_autofree char *text = NULL;
  g_autoptr(GError) err = NULL;
  if (!g_file_get_contents(path, &text, NULL, &err)) {
    *errors_r = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(*errors_r, g_strdup_printf("%s:0: %s", path, err->message));
    return NULL;
  }
  return tg_sla_policies_parse(path, text, errors_r);
}

TgSlaPolicies *tg_sla_policies_default(void) {
  g_autoptr(GPtrArray) errors = NULL;
  TgSlaPolicies *p = tg_sla_policies_parse("(embedded default)", tg_sla_default_text, &errors);
  if (!p)
    g_error("embedded escalation policy is broken: %s",
            (char *)g_ptr_array_index(errors, 0));
  return p;
}

const TgSlaPolicy *tg_sla_policies_find(const TgSlaPolicies *p, const char *name) {
  for (guint i = 0; i < p->policies->len; i++) {
    TgSlaPolicy *pol = g_ptr_array_index(p->policies, i);
    if (g_strcmp0(pol->name, name) == 0)
      return pol;
  }
  return NULL;
}

guint tg_sla_policies_count(const TgSlaPolicies *p) { return p->policies->len; }
const TgSlaPolicy *tg_sla_policies_nth(const TgSlaPolicies *p, guint i) {
  return g_ptr_array_index(p->policies, i);
}

const TgSlaLevel *tg_sla_next_level(const TgSlaPolicy *p, guint current) {
  for (guint i = 0; i < p->levels->len; i++) {
    TgSlaLevel *l = g_ptr_array_index(p->levels, i);
    if (l->level > current)
      return l;
  }
  return NULL;
}

static gboolean is_holiday(const TgSlaPolicy *p, GDateTime *local) {
  if (p->holidays->len == 0)
    return FALSE;
  GDate d;
  g_date_clear(&d, 1);
  g_date_set_dmy(&d, (GDateDay)g_date_time_get_day_of_month(local),
                 (GDateMonth)g_date_time_get_month(local),
                 (GDateYear)g_date_time_get_year(local));
  guint32 j = g_date_get_julian(&d);
  for (guint i = 0; i < p->holidays->len; i++)
    if (g_array_index(p->holidays, guint32, i) == j)
      return TRUE;
  return FALSE;
}

/* The business window [open, close) of the local day containing T, in
 * unix seconds; FALSE when that day is closed. */
static gboolean day_window(const TgSlaPolicy *p, gint64 t, gint64 *open_r,
                           gint64 *close_r, gint64 *next_day_r) {
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
  g_autoptr(GDateTime) local = g_date_time_to_timezone(utc, p->tz);
  gint y, m, d;
  g_date_time_get_ymd(local, &y, &m, &d);
  g_autoptr(GDateTime) midnight = g_date_time_new(p->tz, y, m, d, 0, 0, 0);
  g_autoptr(GDateTime) next = g_date_time_add_days(midnight, 1);
  *next_day_r = g_date_time_to_unix(next);
  int wd = g_date_time_get_day_of_week(local) - 1; /* 0 = Monday */
  if (p->open_min[wd] < 0 || is_holiday(p, local))
    return FALSE;
  g_autoptr(GDateTime) open = g_date_time_new(p->tz, y, m, d, p->open_min[wd] / 60,
                                              p->open_min[wd] % 60, 0);
  g_autoptr(GDateTime) close = p->close_min[wd] >= 24 * 60
                                   ? g_date_time_ref(next)
                                   : g_date_time_new(p->tz, y, m, d, p->close_min[wd] / 60,
                                                     p->close_min[wd] % 60, 0);
  *open_r = g_date_time_to_unix(open);
  *close_r = g_date_time_to_unix(close);
  return TRUE;
}

gint64 tg_sla_add(const TgSlaPolicy *p, gint64 start, guint seconds) {
  if (p->always)
    return start + seconds;
  gint64 t = start;
  guint64 left = seconds;
  for (int day = 0; day < MAX_DAYS; day++) {
    gint64 open, close, next;
    if (day_window(p, t, &open, &close, &next)) {
      if (t < open)
        t = open;
      if (t < close) {
        if ((guint64)(close - t) >= left)
          return t + (gint64)left;
        left -= (guint64)(close - t);
      }
    }
    t = next;
  }
  return G_MAXINT64; /* no business time in ten years: never */
}

guint tg_sla_elapsed(const TgSlaPolicy *p, gint64 from, gint64 to) {
  if (to <= from)
    return 0;
  if (p->always)
    return (guint)MIN(to - from, (gint64)G_MAXUINT);
  guint64 sum = 0;
  gint64 t = from;
  for (int day = 0; day < MAX_DAYS && t < to; day++) {
    gint64 open, close, next;
    if (day_window(p, t, &open, &close, &next)) {
      gint64 a = MAX(t, open), b = MIN(to, close);
      if (b > a)
        sum += (guint64)(b - a);
    }
    t = next;
  }
  return (guint)MIN(sum, (guint64)G_MAXUINT);
}
