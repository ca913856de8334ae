// The API writes its validation reasons in English ("25 is out of range 0-23"); the console
// shows the common ones in Chinese too. A reason no pattern knows is shown as the API wrote it,
// so an unknown message is never lost or mistranslated.
import type { Lang } from "./index";

type Rule = [RegExp, string];

// Templates use $1, $2... for the captured parts (values the user typed, ranges, names).
const ZH_REASONS: Rule[] = [
  [/^(.+) is out of range (\S+)$/, "$1 超出范围 $2"],
  [/^(.+) is out of range (\S+) in (.+)$/, "$3 中的 $1 超出范围 $2"],
  [/^reversed range (\S+)$/, "范围颠倒：$1（请从小写到大）"],
  [/^unknown name (.+)$/, "未知名称 $1"],
  [/^unknown macro (.+)$/, "未知宏 $1"],
  [/^expected 5, 6 or 7 fields, got (\d+)$/, "应为 5、6 或 7 个字段，实际为 $1 个"],
  [/^never fires \((.+)\)$/, "永远不会触发（$1）"],
  [/^unknown time zone (.+)$/, "未知时区 $1"],
  [/^empty field$/, "字段为空"],
  [/^empty list item$/, "列表中有空项"],
  [/^cannot parse (.+)$/, "无法解析 $1"],
  [/^invalid value (.+) \(expected a number (\S+)\)$/, "无效值 $1（应为 $2 之间的数字）"],
  [/^step 0 in (.+) is not allowed.*$/, "$1 中的步长不能为 0"],
  [/^step (\d+) in (.+) is larger than its range.*$/, "$2 中的步长 $1 大于其范围"],
  [/^missing step after '\/' in (.+)$/, "$1 中 '/' 后缺少步长"],
  [/^must be a whole number, not (.+)$/, "必须是整数，而不是 $1"],
  [/^must be a finite number >= (\S+), not (.+)$/, "必须是不小于 $1 的数，而不是 $2"],
  [/^must be a number, not (.+)$/, "必须是数字，而不是 $1"],
  [/^(.+) is not one of (.+)$/, "$1 不是以下之一：$2"],
  [/^a job with id (.+) already exists$/, "ID 为 $1 的任务已存在"],
  [/^is (\d+) characters long; the limit is (\d+)$/, "长度为 $1 个字符，上限为 $2"],
  [/^must be JSON-serialisable: (.+)$/, "必须能序列化为 JSON：$1"],
  [/^(.+) must look like 'package\.module:function'.*$/, "$1 应形如 'package.module:function'"],
  [/^must not be smaller than (\S+)$/, "不能小于 $1"],
  [/^contains control characters$/, "含有控制字符"],
  [/^is not a valid job id.*$/, "不是有效的任务 ID：1-191 个字符，字母、数字和 _ . : @ -"],
]

const ZH_FIELDS: Record<string, string> = {
  second: "秒",
  minute: "分钟",
  hour: "小时",
  "day-of-month": "日",
  day: "日",
  month: "月",
  "day-of-week": "星期",
  day_of_week: "星期",
  week: "周",
  year: "年",
  expression: "表达式",
  expr: "表达式",
  trigger: "触发器",
  timezone: "时区",
  id: "任务 ID",
  name: "名称",
  description: "描述",
  target: "目标",
  args: "位置参数",
  kwargs: "关键字参数",
  group: "分组",
  tags: "标签",
  policies: "策略",
  retries: "重试次数",
  timeout_s: "超时",
  max_instances: "最大实例数",
  misfire_grace_s: "错过宽限时间",
  run_date: "执行时间",
  start_date: "开始时间",
  end_date: "结束时间",
}

/** ``reason`` in ``lang`` (as written when no rule knows it). */
export function localReason(lang: Lang, reason: string): string {
  if (lang !== "zh-CN") return reason;
  for (const [pattern, template] of ZH_REASONS) {
    const m = pattern.exec(reason);
    if (m) return template.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? "");
  }
  return reason;
}

/** A field path such as ``trigger.day-of-month`` in ``lang``. */
export function localField(lang: Lang, field: string): string {
  if (lang !== "zh-CN") return field;
  return field
    .split(".")
    .map((part) => ZH_FIELDS[part] ?? part)
    .join(" · ");
}

/** "field: reason" in ``lang``; the reason alone when there is no field. */
export function localProblem(lang: Lang, field: string | null, reason: string): string {
  const text = localReason(lang, reason);
  return field ? `${localField(lang, field)}: ${text}` : text;
}
