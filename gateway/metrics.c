/* metrics.c - counters and gauges (contract in metrics.h). */
#include "gateway/metrics.h"
#include "spool/journal.h"
#include "tickets/clock.h"

#include <string.h>

#define HIST_BUCKETS 9
static const double hist_bounds[HIST_BUCKETS] = {1, 2, 5, 10, 20, 50, 100, 250, 1000};

typedef struct {
  guint64 buckets[HIST_BUCKETS];
  guint64 count;
  double sum;
} Histogram;

static GMutex lock;
static GHashTable *counters;   /* "name\tlabel\tvalue" -> guint64* */
static GHashTable *histograms; /* name -> Histogram* */

void tg_metrics_count(const char *name, const char *label, const char *value,
                      guint64 delta) {
  g_autofree char *key = g_strdup_printf("%s\t%s\t%s", name, label ? label : "",
                                         value ? value : "");
  g_mutex_lock(&lock);
  if (!counters)
    counters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  guint64 *v = g_hash_table_lookup(counters, key);
  if (!v) {
    v = g_new0(guint64, 1);
    g_hash_table_insert(counters, g_steal_pointer(&key), v);
  }
  *v += delta;
  g_mutex_unlock(&lock);
}

void tg_metrics_observe_ms(const char *name, double ms) {
  g_mutex_lock(&lock);
  if (!histograms)
    histograms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  Histogram *h = g_hash_table_lookup(histograms, name);
  if (!h) {
    h = g_new0(Histogram, 1);
    g_hash_table_insert(histograms, g_strdup(name), h);
  }
  for (int i = 0; i < HIST_BUCKETS; i++)
    if (ms <= hist_bounds[i])
      h->buckets[i]++;
  h->count++;
  h->sum += ms;
  g_mutex_unlock(&lock);
}

/* One sample: metric, optional label, value. */
typedef struct {
  char *metric, *label, *value;
  double v;
} Sample;

static void sample_free(gpointer p) {
  Sample *s = p;
  g_free(s->metric);
  g_free(s->label);
  g_free(s->value);
  g_free(s);
}

static void add(GPtrArray *out, const char *metric, const char *label,
                const char *value, double v) {
  Sample *s = g_new0(Sample, 1);
  s->metric = g_strdup(metric);
  s->label = g_strdup(label);
  s->value = g_strdup(value);
  s->v = v;
  g_ptr_array_add(out, s);
}

static gboolean query_groups(GPtrArray *out, TgStore *store, const char *metric,
                             const char *label, const char *sql, GError **error) {
  sqlite3_stmt *st = tg_store_prepare(store, sql, error, NULL);
  if (!st)
    return FALSE;
  int rc;
  while ((rc = tg_store_step(store, st, error)) == SQLITE_ROW)
    add(out, metric, label, label ? tg_store_col_text(st, 0) : NULL,
        sqlite3_column_double(st, label ? 1 : 0));
  sqlite3_reset(st);
  return rc == SQLITE_DONE;
}

static gboolean has_table(TgStore *store, const char *name) {
  return tg_store_query_int(store,
                            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            0, NULL, "s", name) == 1;
}

static GPtrArray *collect(TgStore *store, TgSpool *spool, GError **error) {
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(sample_free);
  /* The origin's first word: deliver, smtp, lmtp, imap, import. */
  if (!query_groups(out, store, "ticketgate_messages_accepted_total", "origin",
                    "SELECT CASE WHEN instr(coalesce(origin,''), ' ') > 0 "
                    "THEN substr(origin, 1, instr(origin, ' ') - 1) "
                    "ELSE coalesce(nullif(origin, ''), 'unknown') END AS o, count(*) "
                    "FROM messages WHERE direction = 'in' GROUP BY o ORDER BY o",
                    error) ||
      !query_groups(out, store, "ticketgate_tickets_created_total", NULL,
                    "SELECT count(*) FROM tickets", error) ||
      !query_groups(out, store, "ticketgate_tickets", "status",
                    "SELECT status, count(*) FROM tickets GROUP BY status ORDER BY status",
                    error) ||
      !query_groups(out, store, "ticketgate_tickets_escalated", "level",
                    "SELECT escalation_level, count(*) FROM tickets "
                    "WHERE escalation_level > 1 GROUP BY escalation_level ORDER BY 1",
                    error) ||
      !query_groups(out, store, "ticketgate_outbound", "status",
                    "SELECT status, count(*) FROM outbound GROUP BY status ORDER BY status",
                    error) ||
      !query_groups(out, store, "ticketgate_rule_actions_total", "rule",
                    "SELECT substr(actor, 6), count(*) FROM events "
                    "WHERE actor LIKE 'rule:%' GROUP BY actor ORDER BY actor",
                    error))
    return NULL;
  if (has_table(store, "escalation_notices") &&
      !query_groups(out, store, "ticketgate_escalation_notices_total", "level",
                    "SELECT level, count(*) FROM escalation_notices GROUP BY level "
                    "ORDER BY level", error))
    return NULL;
  if (!query_groups(out, store, "ticketgate_search_index_pending", NULL,
                    "SELECT count(*) FROM messages "
                    "WHERE id > (SELECT last_message FROM fts_state)", error))
    return NULL;
  gint64 oldest = 0;
  guint depth = tg_spool_depth(spool, &oldest);
  add(out, "ticketgate_spool_depth", NULL, NULL, depth);
  add(out, "ticketgate_spool_oldest_age_seconds", NULL, NULL,
      depth ? (double)MAX(0, tg_clock_now() - oldest) : 0);
  add(out, "ticketgate_spool_journal_segments", NULL, NULL,
      tg_journal_segment_count(tg_spool_dir(spool)));
  g_autoptr(GPtrArray) q = tg_spool_list(spool, TG_SPOOL_QUARANTINE, NULL);
  g_autoptr(GHashTable) reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; q && i < q->len; i++) {
    g_autofree char *r = tg_spool_quarantine_reason(spool, g_ptr_array_index(q, i));
    char *code = g_strdup(r ? r : "unknown");
    char *sp = strchr(code, ' ');
    if (sp)
      *sp = 0;
    gpointer n = g_hash_table_lookup(reasons, code);
    g_hash_table_replace(reasons, code, GUINT_TO_POINTER(GPOINTER_TO_UINT(n) + 1));
  }
  g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(reasons), (GCompareFunc)strcmp);
  for (GList *k = keys; k; k = k->next)
    add(out, "ticketgate_quarantined", "reason", k->data,
        GPOINTER_TO_UINT(g_hash_table_lookup(reasons, k->data)));
  /* Process counters. */
  g_mutex_lock(&lock);
  if (counters) {
    g_autoptr(GList) ck = g_list_sort(g_hash_table_get_keys(counters), (GCompareFunc)strcmp);
    for (GList *k = ck; k; k = k->next) {
      g_auto(GStrv) parts = g_strsplit(k->data, "\t", 3);
      guint64 *v = g_hash_table_lookup(counters, k->data);
      add(out, parts[0], parts[1][0] ? parts[1] : NULL, parts[1][0] ? parts[2] : NULL,
          (double)*v);
    }
  }
  g_mutex_unlock(&lock);
  return g_steal_pointer(&out);
}

static void escape_label(GString *s, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      g_string_append_c(s, '\\');
    if (*v == '\n')
      g_string_append(s, "\\n");
    else
      g_string_append_c(s, *v);
  }
}

char *tg_metrics_render(TgStore *store, TgSpool *spool, GError **error) {
  g_autoptr(GPtrArray) samples = collect(store, spool, error);
  if (!samples)
    return NULL;
  GString *s = g_string_new(NULL);
  const char *last = "";
  for (guint i = 0; i < samples->len; i++) {
    Sample *x = g_ptr_array_index(samples, i);
    if (strcmp(last, x->metric) != 0) {
      g_string_append_printf(s, "# TYPE %s %s\n", x->metric,
                             g_str_has_suffix(x->metric, "_total") ? "counter" : "gauge");
      last = x->metric;
    }
    g_string_append(s, x->metric);
    if (x->label) {
      g_string_append_printf(s, "{%s=\"", x->label);
      escape_label(s, x->value);
      g_string_append(s, "\"}");
    }
    g_string_append_printf(s, " %.17g\n", x->v);
  }
  g_mutex_lock(&lock);
  if (histograms) {
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(histograms), (GCompareFunc)strcmp);
    for (GList *n = names; n; n = n->next) {
      Histogram *h = g_hash_table_lookup(histograms, n->data);
      g_string_append_printf(s, "# TYPE %s histogram\n", (char *)n->data);
      for (int i = 0; i < HIST_BUCKETS; i++)
        g_string_append_printf(s, "%s_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                               (char *)n->data, hist_bounds[i], h->buckets[i]);
      g_string_append_printf(s, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n%s_sum %.6f\n"
                             "%s_count %" G_GUINT64_FORMAT "\n",
                             (char *)n->data, h->count, (char *)n->data, h->sum,
                             (char *)n->data, h->count);
    }
  }
  g_mutex_unlock(&lock);
  return g_string_free(s, FALSE);
}

JsonNode *tg_metrics_json(TgStore *store, TgSpool *spool, GError **error) {
  g_autoptr(GPtrArray) samples = collect(store, spool, error);
  if (!samples)
    return NULL;
  JsonObject *root = json_object_new();
  for (guint i = 0; i < samples->len; i++) {
    Sample *x = g_ptr_array_index(samples, i);
    if (!x->label) {
      json_object_set_double_member(root, x->metric, x->v);
      continue;
    }
    if (!json_object_has_member(root, x->metric))
      json_object_set_object_member(root, x->metric, json_object_new());
    json_object_set_double_member(json_object_get_object_member(root, x->metric),
                                  x->value, x->v);
  }
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, root);
  return node;
}
