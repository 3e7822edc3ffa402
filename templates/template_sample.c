/*
 * template_sample — sample data for `ticketgate check`.  Contract:
 * template_sample.h.  Keep in step with docs/templates.md.
 */
#include "templates/template_sample.h"

static const char sample_json[] =
  "{"
  "\"ticket\": {"
  "  \"id\": 1234, \"ref\": \"[Support #1234]\", \"tag\": \"Support\","
  "  \"subject\": \"ログインできません\", \"status\": \"escalated\", \"queue\": \"accounts\","
  "  \"priority\": \"high\", \"escalation_level\": 2, \"language\": \"ja\","
  "  \"created\": \"2025-11-25 10:02 +0900\","
  "  \"url\": \"https://support.example.com/tickets/1234\""
  "},"
  "\"customer\": {\"name\": \"山田 太郎\", \"address\": \"taro.yamada@example.jp\"},"
  "\"message\": {"
  "  \"subject\": \"ログインできません\","
  "  \"body\": \"昨日からログインできません。\\nパスワードを再設定しても同じエラーが出ます。\\nエラー: E401\","
  "  \"excerpt\": \"> 昨日からログインできません。\\n> パスワードを再設定しても同じエラーが出ます。\\n> エラー: E401\","
  "  \"date\": \"2025-11-25 10:02 +0900\","
  "  \"from\": \"山田 太郎 <taro.yamada@example.jp>\""
  "},"
  "\"staff\": {\"name\": \"鈴木 一郎\", \"address\": \"suzuki@example.com\"},"
  "\"escalation\": {"
  "  \"level\": 2, \"target\": \"第2サポート\","
  "  \"reason\": \"SLA: level 1 did not answer within 30 minutes\","
  "  \"waiting\": \"2時間15分\","
  "  \"impact\": \"お客様は管理画面にログインできず、請求書を発行できません。\","
  "  \"tried\": \"パスワード再設定の手順を案内済み。再設定後も E401 が出ます。\","
  "  \"expected\": \"本日中に原因を特定し、お客様に回答してください。\","
  "  \"history\": ["
  "    {\"at\": \"2025-11-25 10:02\", \"event\": \"チケット作成\", \"by\": \"山田 太郎\"},"
  "    {\"at\": \"2025-11-25 10:05\", \"event\": \"受付の自動返信を送信\", \"by\": \"ticketgate\"},"
  "    {\"at\": \"2025-11-25 10:32\", \"event\": \"レベル1 へエスカレーション\", \"by\": \"SLA\"},"
  "    {\"at\": \"2025-11-25 12:17\", \"event\": \"レベル2 へエスカレーション\", \"by\": \"SLA\"}"
  "  ]"
  "},"
  "\"command\": {"
  "  \"name\": \"escalate\", \"text\": \"#escalate 至急確認をお願いします\", \"ok\": true,"
  "  \"result\": \"チケット [Support #1234] をレベル2 にエスカレーションしました。\","
  "  \"error\": \"\","
  "  \"commands\": ["
  "    {\"usage\": \"#assign NAME\", \"description\": \"assign the ticket to a staff member\"},"
  "    {\"usage\": \"#escalate [REASON]\", \"description\": \"move the ticket one level up\"},"
  "    {\"usage\": \"#pending\", \"description\": \"wait for the customer\"},"
  "    {\"usage\": \"#resolve\", \"description\": \"close the ticket as resolved\"},"
  "    {\"usage\": \"#canned NAME\", \"description\": \"send the canned answer NAME to the customer\"}"
  "  ]"
  "},"
  "\"captures\": {\"order_id\": \"A-10023\"},"
  "\"gateway\": {"
  "  \"name\": \"Example サポートデスク\", \"support_address\": \"support@example.com\","
  "  \"signature\": \"Example株式会社 サポートデスク\\nsupport@example.com / 03-1234-5678（平日 9:00〜18:00）\""
  "}"
  "}";

JsonNode *
template_sample_new(void)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string(sample_json, &error);
  if (!node)
    g_error("template_sample: built-in sample data is not JSON: %s", error->message);
  return node;
}
