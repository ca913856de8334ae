// The API's problem details carry a machine-readable `code` and its `params` beside the English
// `detail`; the console words every code in Chinese from the templates below (English shows the
// API's own detail). tests/api/test_problem_codes.py checks that every code the API can send has
// a template here, and that each template's {placeholders} are params the API gives that code.
import type { Json } from "../types";
import type { Lang } from "./index";

export type Params = Record<string, Json>;

/** A refusal as the API described it. */
export interface ProblemLike {
  field: string | null;
  code: string | null;
  params: Params;
  message: string;
}

// BEGIN ZH_REASONS (one `code: "template",` per line; read by tests/api/test_problem_codes.py)
const ZH_REASONS: Record<string, string> = {
  // cron expressions and trigger keywords
  out_of_range: "{value} 超出范围 {min}-{max}",
  out_of_range_in: "{item} 中的 {value} 超出范围 {min}-{max}",
  not_a_number_in_range: "无效值“{value}”（应为 {min}-{max} 之间的数字）",
  unknown_name: "未知名称“{name}”",
  unknown_macro: "未知宏“{name}”",
  unknown_position: "未知位置“{name}”（可用 1st-5th 或 last）",
  missing_step: "“{item}”中 / 后缺少步长",
  step_zero: "“{item}”中的步长不能为 0",
  step_too_large: "“{item}”中的步长 {step} 大于字段范围 {min}-{max}",
  step_over_span: "“{item}”中的步长 {step} 大于其范围（{span}）",
  empty_field: "字段为空",
  empty_list_item: "列表中有空项",
  question_mark_field: "? 只能用于“日”和“星期”字段",
  question_mark_alone: "? 必须单独构成整个字段",
  cannot_parse: "无法解析“{text}”",
  name_with_suffix: "无法解析“{text}”（名称不能带步长或后缀）",
  reversed_range: "范围颠倒：{range}（请从小写到大）",
  h_in_year: "年份字段不支持 H",
  last_offset_range: "L-{value} 超出范围（L-0 到 L-30）",
  w_needs_day: "W 需要指定日期，例如 15W（或 LW）",
  l_alone_in_dow: "星期字段中单独的 L 含义不明，请写成 5L 或 FRIL",
  missing_nth: "“{item}”中 # 后缺少序号",
  nth_range: "“{item}”中的 #{value} 超出范围（#1 到 #5）",
  expected_string: "应为文本，实际为 {type}",
  macro_alone: "宏必须单独使用：{expr}",
  reboot_unsupported: "不支持 @reboot（Tickwork 按时钟触发，而不是在开机时）",
  field_count: "应为 5、6 或 7 个字段，实际为 {count} 个",
  never_fires_days: "永远不会触发（{months}没有 {days} 日）",
  never_fires_fields: "永远不会触发（没有日期同时满足 {fields}）",
  never_fires: "永远不会触发（没有日期同时满足各个日期字段）",
  unknown_trigger_keyword: "不是 {kind} 触发器的参数",
  expected_int_or_string: "应为整数或文本，实际为 {value}",
  expected_seconds: "应为不小于 0 的秒数，实际为 {value}",
  end_before_start: "早于开始时间",
  naive_datetime: "必须是带时区的时间",
  cron_spec_shape: "cron 规格必须且只能有 expr 和 fields 之一",
  not_a_cron_field: "不是 cron 字段",
  unknown_spec_key: "不是 {kind} 规格中的键",
  interval_not_positive: "间隔必须大于 0（请填写周、天、小时、分钟或秒）",
  required: "必填",
  expected_zone: "应为时区名，实际为 {value}",
  unknown_zone: "未知时区“{zone}”",
  unnamed_zone: "无法在规格中命名时区 {zone}，请使用 IANA 时区名或固定偏移",
  zone_no_offset: "时区 {zone} 没有 UTC 偏移",
  not_a_date: "不是日期时间：“{value}”（例如 2026-12-31 或 2026-12-31 23:59:00）",
  invalid_date: "不是有效的日期时间：“{value}”",
  bad_utc_offset: "“{value}”中的 UTC 偏移无效（-23:59 到 +23:59）",
  expected_datetime: "应为日期时间，实际为 {value}",
  keywords_with_trigger: "给了触发器对象，就不能再给触发器参数",
  keywords_without_kind: "给了触发器参数，但没有触发器类型",
  unsupported_trigger: "不支持的触发器类型 {type}",
  not_with_cron_expression: "不能与 cron 表达式一起使用",
  trigger_one_of: "expr、args、spec 只能给一个，实际给了 {given}",
  trigger_takes_args: "{kind} 触发器用 args，不用 expr",
  trigger_needs_args: "{kind} 触发器需要 expr 或 args",
  // job fields
  job_id_rule: "“{value}”不是有效的任务 ID：1-{max} 个字符，字母、数字和 _ . : @ -（不能以标点开头）",
  target_required: "请给出可调用对象或 package.module:function 形式的引用",
  target_form: "“{value}”应形如 package.module:function",
  module_not_found: "找不到模块 {module}",
  import_failed: "导入模块 {module} 失败：{error}",
  no_attribute: "{owner} 没有属性 {name}",
  not_callable: "{value} 不可调用（它是 {type}）",
  not_importable: "{value} 无法导入：请在可导入模块的顶层定义函数，并传入函数本身",
  expected_text: "必须是文本",
  empty_text: "不能为空",
  text_too_long: "长度为 {length} 个字符，上限为 {max}",
  control_characters: "含有控制字符",
  tags_not_list: "必须是标签列表，而不是单个文本",
  empty_tag: "标签不能为空",
  too_many_items: "共 {count} 项，上限为 {max}",
  not_one_of: "“{value}”不是以下之一：{choices}",
  expected_number: "必须是数字，而不是 {value}",
  expected_number_min: "必须是不小于 {min} 的数，而不是 {value}",
  expected_integer: "必须是整数，而不是 {value}",
  expected_list: "必须是列表",
  expected_mapping: "必须是键值对象",
  expected_mapping_text_keys: "必须是键为文本的键值对象",
  not_json_serialisable: "必须能序列化为 JSON",
  json_too_large: "JSON 大小为 {size} 字节，上限为 {max}",
  secret_not_kwarg: "“{key}”不是此任务的关键字参数",
  above_limit_seconds: "{value} 超过上限 {max} 秒",
  interval_too_long: "间隔为 {value} 秒，上限为 {max} 秒（100 年）",
  trigger_value_out_of_range: "有值超出范围（{error}）",
  lone_surrogate: "含有单独的 UTF-16 代理字符（\\uD800-\\uDFFF），不是文本",
  nested_too_deep: "嵌套超过 {max} 层",
  // target rules (TICKWORK_ALLOWED_TARGETS)
  target_denied: "“{ref}”永远不能作为任务目标：标准库中启动进程、执行或导入代码、反序列化的入口，Tickwork 的内部模块，以及 _ 开头或双下划线的名称都不行（请写一个只做这件事的自己的函数）",
  target_not_allowed: "不允许使用模块 {module}；允许的模块前缀：{allowed}。部署方用 TICKWORK_ALLOWED_TARGETS 设置（默认是代码和任务文件中声明的任务所在的模块，以及 Tickwork 内置任务）",
  not_module_prefix: "“{value}”不是模块前缀（例如 myapp.jobs）",
  // declared run-time parameters and manual runs
  parameters_not_list: "必须是参数声明的列表",
  parameter_shape: "必须是含 name 和 type 的对象",
  unknown_parameter_field: "不是参数声明的字段（可用：{fields}）",
  not_identifier: "“{value}”不是 Python 标识符",
  parameter_declared_twice: "参数“{name}”重复声明",
  parameter_is_secret: "“{name}”是此任务的密钥参数；密钥永远不能作为运行参数",
  expected_boolean: "必须是 true 或 false",
  bounds_need_number: "只有整数和数字参数才能设置上下限",
  length_needs_string: "只有文本参数才能设置长度",
  expected_integer_in_range: "必须是 {min}-{max} 之间的整数",
  expected_nonempty_list: "必须是非空列表",
  expected_short_text: "必须是不超过 {max} 个字符的文本",
  parameter_type: "必须是{kind}，而不是 {value}",
  below_minimum: "{value} 小于下限 {min}",
  above_maximum: "{value} 大于上限 {max}",
  run_params_shape: "必须是只含 kwargs 的对象",
  run_args_fixed: "手动执行不能替换任务的位置参数；请在任务上声明关键字参数",
  run_param_secret: "是此任务的密钥，执行时不能设置",
  not_declared: "不是此任务声明的参数（已声明：{declared}）",
  required_for_run: "手动执行时必填",
  not_below_field: "不能小于 {other}",
  unknown_option: "不是可修改的任务选项",
  unsupported_option: "此选项在 Tickwork 中没有对应项",
  // conflicts and lookups
  duplicate_id: "ID 为 {id} 的任务已存在",
  duplicate_ids: "有任务 ID 已存在",
  id_owned_elsewhere: "任务 {id} 已存在，属于 {owner} {ref}；请换一个 ID",
  read_only_job: "任务 {id} 由{owner} {ref} 定义：请在那里修改；暂停和恢复仍然可用",
  stale_version: "已被他人修改，你看到的版本已过期；请刷新后重试",
  run_ended: "执行 #{id} 已经结束（{status}）",
  not_found: "{kind} {id} 不存在",
  no_route: "没有这个 API 路由：{method} {path}",
  bad_cursor: "不是此 API 返回的分页游标",
  bad_if_match: "必须是任务的 ETag，例如 \"3\"",
  version_mismatch: "与 If-Match 不一致",
  id_mismatch: "与路径中的任务 ID 不一致",
  kept_changing: "任务 {id} 一直在变化，请再执行一次",
  // secrets at rest (the vault)
  keyring_shape: "格式应为 {\"current\": ID, \"keys\": {ID: base64 密钥, ...}}",
  keyring_bad_key: "密钥 {key} 不是带有自身 ID 的 32 字节密钥",
  keyring_no_current: "当前密钥 {key} 不在密钥环中",
  keyring_readable: "{path} 可被其他用户读取；请运行 chmod 600",
  keyring_in_env: "密钥环来自环境变量：请先在那里加入新密钥，再运行 tickwork secrets reencrypt",
  sealed_malformed: "加密保存的值已损坏",
  vault_key_missing: "该密钥由保管库密钥 {key} 加密，而本进程没有此密钥（请让每个节点使用相同的 TICKWORK_SECRET_KEY 或密钥环）",
  sealed_wont_open: "加密保存的值无法打开（已被修改或移动）",
  no_vault_key: "没有保管库密钥：既没有服务器密钥，也没有密钥环",
  // accounts
  login_failed: "用户名或密码错误",
  too_many_logins: "登录失败次数过多，请 {seconds} 秒后再试",
  too_many_password_checks: "同时进行的密码校验过多，请 {seconds} 秒后再试",
  rate_limited: "请求过多，请 {seconds} 秒后再试",
  unauthenticated: "请登录或提供 API 令牌",
  bad_authorization: "请使用 Authorization: Bearer 令牌",
  token_invalid: "API 令牌未知、已过期或已吊销",
  session_ended: "会话已结束，请重新登录",
  csrf_missing: "用会话 Cookie 写入时需要在 {header} 中带上 CSRF 令牌",
  role_required: "需要{role}角色；你当前是{actual}",
  token_role_too_high: "令牌的角色不能高于你的角色（{role}），请求的是{wanted}",
  not_in_future: "必须是将来的时间",
  duplicate_user: "用户 {name} 已存在",
  own_role: "不能修改自己的角色或停用自己",
  own_account: "不能删除自己的账户",
  last_admin: "最后一个启用的管理员不能被删除、降级或停用",
  wrong_password: "不是你当前的密码",
  username_rule: "1-{max} 个字符：字母、数字和 _ . @ -（以字母或数字开头）",
  password_too_short: "至少需要 {min} 个字符",
  password_too_long: "最多 {max} 个字符",
  password_too_simple: "太简单",
  password_is_username: "不能与用户名相同",
  password_too_common: "太常见（常见密码、其变体或用户名）",
  // the request itself (also Pydantic's own error types)
  bad_request: "请求无效",
  invalid_input: "输入无效",
  bad_length: "Content-Length 不是数字",
  body_too_large: "请求体过大，上限为 {max} 字节",
  body_too_deep: "请求体的 JSON 嵌套 {depth} 层，上限为 {max} 层",
  outside_calendar: "换算为 UTC 后不在公元 1-9999 年之间",
  request_too_large: "请求体过大",
  unsupported_media_type: "请以 application/json 发送请求体",
  forbidden: "你的角色无权执行此操作",
  not_found_route: "不存在",
  method_not_allowed: "不允许此方法",
  not_acceptable: "无法提供所要求的格式",
  conflict: "与已保存的状态冲突",
  internal_error: "服务器出错，详情见服务器日志",
  unavailable: "服务暂不可用",
  database_unavailable: "数据库没有响应，未做任何更改；请在 {seconds} 秒后重试",
  missing: "必填",
  extra_forbidden: "不是可接受的字段",
  string_too_long: "最多 {max} 个字符",
  string_too_short: "至少 {min} 个字符",
  too_long: "最多 {max} 项",
  too_short: "至少 {min} 项",
  greater_than_equal: "必须不小于 {min}",
  greater_than: "必须大于 {min}",
  less_than_equal: "必须不大于 {max}",
  less_than: "必须小于 {max}",
  multiple_of: "必须是 {step} 的倍数",
  string_pattern_mismatch: "格式不符合要求",
  literal_error: "必须是以下之一：{expected}",
  enum: "不是可选的值",
  json_invalid: "请求体不是有效的 JSON（第 {position} 个字符处）",
  json_type: "必须是 JSON",
  string_type: "必须是文本",
  int_type: "必须是整数",
  int_parsing: "必须是整数",
  int_from_float: "必须是整数，不能有小数",
  float_type: "必须是数字",
  float_parsing: "必须是数字",
  finite_number: "必须是有限的数字",
  bool_type: "必须是 true 或 false",
  bool_parsing: "必须是 true 或 false",
  list_type: "必须是列表",
  dict_type: "必须是键值对象",
  model_type: "必须是键值对象",
  model_attributes_type: "必须是键值对象",
  datetime_type: "必须是日期时间",
  datetime_parsing: "不是有效的日期时间",
  datetime_from_date_parsing: "不是有效的日期时间",
  timezone_aware: "必须带时区",
  none_required: "必须为空",
  value_error: "值无效",
  invalid_value: "值无效（{type}）",
  // job kinds, connections, scripts and the SSRF guard
  admin_only_kind: "{kind} 任务只能由管理员创建和修改",
  bad_allow_entry: "“{entry}”不是主机名、*.域名、地址或网段",
  bad_ref: "必须是“包.模块:函数”形式的引用（最多 500 个字符）",
  bad_script_name: "“{name}”不是有效的脚本名：1-63 个小写字母、数字、_ 和 -，以字母开头",
  bad_url: "必须是有效的 http:// 或 https:// 地址",
  bad_url_scheme: "不允许使用协议“{scheme}”，只能用 HTTP 和 HTTPS",
  connection_in_use: "连接“{name}”正被任务 {jobs} 使用，请先修改这些任务",
  control_chars: "包含 NUL 或其他无法作为文本的字符",
  duplicate_connection: "连接“{name}”已存在",
  duplicate_script: "脚本“{name}”已存在",
  empty: "不能为空",
  http_only: "只能发送 HTTP 目标",
  kind_switched_off: "{kind} 类任务已被设置 {setting} 关闭",
  mapping_type: "必须是名称到文本的映射",
  python_only: "{kind} 任务不接受 Python 参数，请把值写在目标里",
  script_in_use: "脚本“{name}”正被任务 {jobs} 使用，请先修改这些任务",
  script_language_fixed: "脚本“{name}”是 {language} 脚本，语言不能更改",
  script_language_mismatch: "脚本“{name}”是 {language} 脚本",
  ssrf_refused: "{target}：{reason}（SSRF 防护拒绝了该地址；管理员可将其加入允许列表）",
  text_type: "必须是文本",
  unknown_connection: "没有名为“{name}”的连接",
  unknown_field: "不是 {kind} 目标的字段",
  unknown_script: "没有名为“{name}”的脚本",
  unknown_script_version: "脚本“{name}”没有版本 {version}（最新：{latest}）",
  url_credentials: "地址中不能带凭据，请使用命名的 HTTP 连接进行认证",
  wrong_connection_kind: "连接“{name}”是 {kind} 连接，这里需要 {wanted} 连接",
  // built-in maintenance jobs (issue 13)
  bad_identifier: "“{value}”不是表名或列名（只能包含字母、数字、_ 和 $）",
  bad_pattern: "“{value}”不是键模式",
  pattern_too_broad: "“{value}”会匹配所有应用的键：模式必须以字面前缀开头，例如 cache:*",
  // workflows (issue 11)
  bad_after: "每一项须为步骤 ID 或 {step, on}",
  bad_step_id: "步骤 ID 须为 1-100 个字母、数字或 _.:@-（以字母或数字开头）",
  bad_step_job: "须为任务 ID",
  duplicate_edge: "边 {edge} 重复",
  duplicate_step: "步骤“{step}”重复定义",
  empty_steps: "须为非空的步骤列表",
  too_many_steps: "最多 {max} 个步骤",
  unknown_step_job: "步骤“{step}”的任务“{job}”不存在",
  workflow_cycle: "边 {edge} 形成了环（{cycle}）",
  workflow_id_rule: "“{value}”不是有效的工作流 ID：1-{max} 个字符，字母、数字和 _ . : @ -（不能以标点开头）",
  workflow_read_only: "工作流 {id} 由 {ref} 定义，请在该文件中修改",
  workflow_run_ended: "工作流运行 {id} 已结束（{status}）",
  workflow_run_not_rerunnable: "工作流运行 {id} 的状态为 {status}；只有已结束且未成功的运行可以重跑",
  workflow_self_edge: "边 {edge} 指向自身（步骤不能等待自己）",
  workflow_unknown_step: "边 {edge}：不存在“{step}”",
  // templates and forecast (issue 11)
  bad_category: "分类必须是一个简短的小写单词",
  bad_glob: "通配符“{value}”必须是相对路径且不含 ..",
  bad_placeholder: "包含不对应任何参数的 $（美元符号请写作 $$）",
  bad_template_name: "“{name}”不是有效的模板名称：1-63 个小写字母、数字、_ 或 -，以字母开头",
  bilingual_text: "必须是 {\"en\": \"...\", \"zh-CN\": \"...\"}（英文必填）",
  builtin_template: "“{name}”是内置模板",
  expected_positive: "必须是大于等于 1 的整数",
  not_absolute_path: "“{value}”必须是不含 .. 的绝对路径",
  not_from_template: "任务“{id}”不是由模板“{name}”创建的",
  not_template_parameter: "不是此模板的参数（参数：{declared}）",
  outside_root: "{value} 不在根目录 {root} 之内",
  parameter_unused: "参数“{name}”在任务中没有被使用",
  required_parameter: "模板要求填写此项",
  rollout_refused: "任务“{id}”无法更新：{reason}",
  root_not_allowed: "{value} 不是允许的根目录（允许：{choices}）",
  secret_default: "机密参数不能有默认值（默认值会保存在模板中）",
  secret_choices: "机密参数不能有可选值（可选值会保存在模板中）",
  secret_needs_string: "只有字符串参数可以设为机密",
  secret_placement: "机密参数“{name}”只能作为 Python 目标 kwargs 的完整取值（{\"$param\": \"...\"}），由密钥库加密",
  template_in_use: "有 {count} 个任务由模板“{name}”创建，请先删除这些任务",
  template_job: "job 必须是至少包含 target 的映射",
  too_many_buckets: "会产生 {count} 个时间桶，上限为 {max}（一周按分钟）；请使用更大的时间桶",
  unknown_placeholder: "引用了 ${{name}}，但没有这个参数",
  // groups (issue 11)
  bad_value: "值的类型不对",
  duplicate_group: "分组“{name}”已存在",
  group_name_slash: "不能包含“/”",
  group_not_empty: "分组“{name}”中还有 {jobs} 个任务，请先移走或删除它们",
  group_role_required: "需要在分组“{group}”中具有{role}角色；你在该分组是{actual}",
  own_grants: "不能修改自己的分组角色",
  unknown_user: "没有名为“{name}”的用户",
  // Celery: queues, the celery kind, the beat importer (issue 14)
  bad_queue_name: "必须是 1-100 个字母、数字或 . _ - : @（Celery 队列名）",
  bad_broker_url: "“{value}”不是 Tickwork 支持的消息代理（amqp:// 或 redis://）",
  bad_resend_after: "“{value}”不是正的秒数",
  // alerts (issue 12)
  alert_channel_in_use: "告警通道“{name}”正被规则 {rules} 使用，请先修改这些规则",
  bad_alert_name: "须为 1-63 个字母、数字、“_”、“.”或“-”，以字母或数字开头",
  bad_email: "“{value}”不是邮箱地址",
  bad_time: "须为 24 小时制时间 HH:MM",
  bad_zone: "不是 IANA 时区名",
  channels_repeated: "每个通道只能列一次，最多 20 个",
  duplicate_alert_channel: "告警通道“{name}”已存在",
  duplicate_alert_rule: "告警规则“{id}”已存在",
  immutable_field: "不能修改",
  quiet_empty: "免打扰的结束时间须与开始时间不同",
  robot_host: "{kind} 机器人只能发往 {hosts}；“{host}”不在其中，也不在 SSRF 允许列表中",
  unknown_alert_channel: "没有名为“{name}”的告警通道（请先创建）",
  unknown_alert_field: "不认识的字段“{name}”",
  wrong_type: "类型不对",
};
// END ZH_REASONS

// Words inside params (kinds, roles, statuses, owners) that have a Chinese name.
const ZH_WORDS: Record<string, string> = {
  job: "任务",
  run: "执行记录",
  user: "用户",
  token: "API 令牌",
  cron: "Cron",
  interval: "固定间隔",
  date: "一次性",
  viewer: "只读",
  operator: "运维",
  admin: "管理员",
  account: "账户",
  address: "地址",
  config: "任务文件",
  code: "代码",
  api: "API",
  cli: "命令行",
  python: "Python",
  succeeded: "成功",
  failed: "失败",
  timed_out: "超时",
  cancelled: "已取消",
  skipped: "已跳过",
  missed: "已错过",
  lost: "已丢失",
  string: "文本",
  integer: "整数",
  number: "数字",
  boolean: "布尔值",
  group: "分组",
  none: "无权限",
};

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
  weeks: "周",
  days: "天",
  hours: "小时",
  minutes: "分钟",
  seconds: "秒",
  year: "年",
  expression: "表达式",
  expr: "表达式",
  trigger: "触发器",
  timezone: "时区",
  id: "任务 ID",
  job_id: "任务 ID",
  name: "名称",
  description: "描述",
  target: "目标",
  func: "函数",
  args: "位置参数",
  kwargs: "关键字参数",
  params: "参数",
  group: "分组",
  tags: "标签",
  policies: "策略",
  executor: "执行器",
  misfire_policy: "错过策略",
  concurrency_policy: "并发策略",
  max_catchup: "最多补跑次数",
  retries: "重试次数",
  retry_backoff_s: "重试间隔",
  retry_backoff_max_s: "最长重试间隔",
  timeout_s: "超时",
  max_instances: "最大实例数",
  misfire_grace_s: "容忍时间",
  secret_keys: "敏感参数",
  paused: "暂停",
  version: "版本",
  run_date: "执行时间",
  start_date: "开始时间",
  end_date: "结束时间",
  jitter: "随机延迟",
  interval: "间隔",
  kind: "类型",
  spec: "规格",
  fields: "字段",
  lang: "语言",
  seed: "种子",
  count: "数量",
  after: "起始时间",
  since: "开始时间",
  until: "结束时间",
  status: "状态",
  cursor: "分页游标",
  limit: "每页条数",
  sort: "排序",
  text: "搜索",
  q: "搜索",
  body: "请求体",
  username: "用户名",
  password: "密码",
  current_password: "当前密码",
  new_password: "新密码",
  role: "角色",
  disabled: "停用",
  expires_at: "过期时间",
  state: "状态",
  group_name: "分组",
  target_kind: "目标类型",
  trigger_kind: "触发器类型",
  next_fire_at: "下次执行",
  owner: "定义来源",
  owner_ref: "定义位置",
};

function zhValue(key: string, value: Json): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) {
    if (key === "months") return value.map((m) => `${String(m)} 月`).join("、");
    if (key === "fields")
      return value
        .map((f) => (f && typeof f === "object" && !Array.isArray(f) ? `${localField("zh-CN", String(f.field))} “${String(f.text)}”` : String(f)))
        .join("、");
    return value.map((v) => zhValue(key, v)).join("、");
  }
  if (typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  if (key === "kind" || key === "role" || key === "actual" || key === "wanted" || key === "what" || key === "owner" || key === "status")
    return ZH_WORDS[text] ?? text;
  return text;
}

/** A piece of a message: text in the page's language, or a value from the user (an id, a
 * name, a cron field) that the page shows as it is (``translate="no"``). */
export type Part = string | { raw: string };

// Params whose values are words the console translates (not the user's data).
const WORD_PARAMS = new Set(["kind", "role", "actual", "wanted", "what", "owner", "status", "months"]);

function fillParts(template: string, params: Params): Part[] {
  const out: Part[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    const name = m[1] ?? "";
    out.push(template.slice(last, m.index));
    if (name in params) {
      const text = zhValue(name, params[name] ?? null);
      out.push(WORD_PARAMS.has(name) ? text : { raw: text });
    } else out.push(m[0]);
    last = (m.index ?? 0) + m[0].length;
  }
  out.push(template.slice(last));
  return out.filter((p) => p !== "");
}

export function partsText(parts: Part[]): string {
  return parts.map((p) => (typeof p === "string" ? p : p.raw)).join("");
}

/** The reason of a problem in ``lang``, in parts: the API's English, or the Chinese template
 * of its code with the user's values marked. */
export function localReasonParts(lang: Lang, problem: Pick<ProblemLike, "code" | "params" | "message">): Part[] {
  if (lang !== "zh-CN" || !problem.code) return [problem.message];
  const template = ZH_REASONS[problem.code];
  return template === undefined ? [problem.message] : fillParts(template, problem.params);
}

/** The reason of a problem in ``lang``: the API's English, or the Chinese template of its code. */
export function localReason(lang: Lang, problem: Pick<ProblemLike, "code" | "params" | "message">): string {
  return partsText(localReasonParts(lang, problem));
}

/** "field: reason" in parts (the reason alone without a field, or with ``field`` null). */
export function localProblemParts(lang: Lang, problem: ProblemLike, field: string | null = problem.field): Part[] {
  const reason = localReasonParts(lang, problem);
  if (!field) return reason;
  const label = localField(lang, field);
  const known = lang !== "zh-CN" || field.split(".").every((part) => part in ZH_FIELDS);
  return [known ? label : { raw: label }, ": ", ...reason];
}

/** A field path such as ``trigger.day-of-month`` in ``lang``. */
export function localField(lang: Lang, field: string): string {
  if (lang !== "zh-CN") return field;
  return field
    .split(".")
    .map((part) => ZH_FIELDS[part] ?? part)
    .join(" · ");
}

/** "field: reason" in ``lang`` (the reason alone without a field, or with ``field`` null). */
export function localProblem(lang: Lang, problem: ProblemLike, field: string | null = problem.field): string {
  return partsText(localProblemParts(lang, problem, field));
}

/** A word the API uses as a value (a kind, role or status) in ``lang``. */
export function localWord(lang: Lang, word: string): string {
  return lang === "zh-CN" ? (ZH_WORDS[word] ?? word) : word;
}
