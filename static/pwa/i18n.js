// The app's strings in Chinese (default) and English; the choice is kept on the phone.
const STRINGS = {
  zh: {
    // Review (审核) and the grid lead's view.
    review_pending: "待审核", review_returned: "被退回，需处理", review_reason: "退回原因", review_resubmit: "重新提交",
    review_approve: "审核通过", review_return: "退回", review_move_outs: "迁出审核", review_person_gone: "（人员已不在本机）",
    lead_home: "我的网格", lead_coverage: "本周期走访", lead_open: "审核与详情",
    // Tasks (待办).
    tasks: "待办", tasks_mine: "我的待办", tasks_cell: "网格待办（未指派）", tasks_other: "同事的待办", task_mine: "我的",
    task_cell: "网格", task_other: "同事", task_overdue: "已逾期，应于", task_due: "截止", task_close: "办结",
    task_gone: "该任务已办结或不在本机", task_visit: "办结依据的走访", task_visit_new: "现在登记一次走访",
    task_result: "处理结果", task_outcome: "情况说明", choose: "请选择",
    // The house page's flags and units, rooms and households, walking order, residence permits.
    flag_clear: "解除标记", flags_all_open: "各类标记均已存在", unit_edit: "修改单位", unit_close: "单位已迁离（关闭）",
    unit_close_confirm: "确认该单位已不在此处？", room_none: "不分室／未知", household: "户", household_none: "不指定",
    household_new: "新立一户", household_with: "与{names}同户", walk_order: "按路线", walk_missing: "尚无路线：联网同步后即可离线使用",
    walk_done: "本网格房屋本周期均已走访", permits_due: "居住证到期", permits_within: "{days}天内到期或已过期的居住证，及{window}天内须办理年度签注的",
    permit_endorse: "须于{due}前签注",
    permit_expired: "居住证已过期", permit_expires: "居住证到期", permit_number: "居住证号码", permit_expiry: "居住证有效期至", results_more: "仅显示前{n}条，请输入更多字",
    cells: "网格", search: "查找", scan: "扫码", outbox: "待同步", login: "登录", username: "用户名", password: "密码",
    login_go: "登录并登记本机", login_online: "首次登录需要联网", login_failed: "用户名或密码错误",
    pin_new: "设置PIN码（6–12位数字）", pin_again: "再次输入PIN码", pin_go: "确定", pin_mismatch: "两次输入不一致",
    pin_format: "PIN码应为6至12位数字", pin: "PIN码", unlock: "解锁", pin_forgot: "忘记PIN码：联网重新登录",
    // PIN rules and the phone's login (issue 15).
    pin_wrong_left: "PIN码错误，还可尝试{n}次", pin_weak_title: "请设置新的PIN码",
    pin_weak: "为保护居民信息，PIN码现须至少6位数字：请设置新的PIN码",
    pin_destroyed: "PIN码已连续输错5次，本机已锁定：请联网用用户名和密码重新登录并设置新的PIN码，待同步数据会保留",
    login_too_many_devices: "此账号已有两台手机在用：请在旧手机上退出，或请居委会/中心在控制台停用旧手机",
    login_role_no_device: "派出所和社区报告员账号不能登记采集手机：派出所请在电脑上使用控制台，报告员请在网页上报告",
    login_password_change: "此账号使用的是临时密码：请先在控制台修改密码，再用新密码登录",
    login_throttled: "登录失败次数过多，请稍后再试", login_throttled_wait: "登录失败次数过多，请{n}秒后再试", login_expired_title: "需要重新登录",
    device_expired: "本机已超过30天未同步，登录已失效：请联网重新登录，待同步数据会保留并在登录后上传",
    locked_title: "已锁定", houses: "房屋", occupants: "在住人员", none: "暂无", visited: "本周期已走访", not_visited: "本周期未走访",
    open_tips: "待办", add_occupant: "新增人员", edit: "修改", move_out: "迁出", record_visit: "登记走访", flag: "标记房屋",
    add_house: "新增房屋", add_unit: "登记单位", save: "保存", cancel: "取消", saved: "已保存（待同步）", name: "姓名",
    id_type: "证件类型", id_number: "证件号码", phone: "手机号码", category: "人员类别", relation: "与房屋关系",
    start_date: "入住日期", end_date: "迁出日期", end_reason: "迁出原因", sex: "性别", birth_date: "出生日期",
    outcome: "走访结果", note: "备注", gps: "记录位置（GPS）", plate_scanned: "已扫门牌码", kind: "类型",
    road: "路/街", number: "门牌号", building: "楼号", unit_no: "单元", floor: "楼层", room: "室号", unit_name: "单位名称",
    uscc: "统一社会信用代码", temp_code: "临时码", pending: "待同步", last_sync: "上次同步", never: "从未",
    sync_now: "立即同步", sync_ok: "成功", sync_failed: "失败", rejected: "需修改", blocked: "等待前一条修改",
    conflicts: "已转中心处理", resend: "修改后重发", export: "导出待同步数据", logout: "退出并清除本机数据",
    logout_blocked: "还有未同步的数据：请先同步或导出文件交给中心", revoked: "本机已被停用：请导出待同步数据交给中心，然后清除",
    wipe: "清除本机数据", search_hint: "姓名、证件号后4–6位、手机、地址、室号或门牌码", results: "结果",
    scan_hint: "对准门牌二维码", scan_start: "打开相机", type_code: "或输入门牌码", open: "打开",
    plate_unknown: "此门牌不在您的网格内，或尚未登记", camera_refused: "无法使用相机，请输入门牌码",
    offline: "离线", online: "在线", update_ready: "有新版本", update_go: "更新", db_blocked: "请关闭本应用的其他页面后重试",
    house: "房屋", back: "返回", filled_from_id: "已根据证件号码填写", warnings: "请核对", error: "错误",
    unlock_to_sync: "解锁后同步", syncing: "同步中…", code: "门牌码", flags: "标记", units: "单位",
    other_user_pending: "本机还有其他协管员未同步的数据：请其先同步或导出", exported: "已导出文件，请交给中心",
    db_reload: "应用已在其他页面升级：请重新加载本页（待同步数据已保存）", reload: "重新加载",
  },
  en: {
    // Review (审核) and the grid lead's view.
    review_pending: "Waiting for review", review_returned: "Returned to you", review_reason: "Reason", review_resubmit: "Resubmit",
    review_approve: "Approve", review_return: "Return", review_move_outs: "Move-outs under review", review_person_gone: "(person no longer on this phone)",
    lead_home: "My cells", lead_coverage: "Visited this cycle", lead_open: "Reviews and details",
    // Tasks (待办).
    tasks: "Tasks", tasks_mine: "My tasks", tasks_cell: "The cell's tasks (unassigned)", tasks_other: "Colleagues' tasks", task_mine: "Mine",
    task_cell: "Cell", task_other: "Colleague", task_overdue: "Overdue, was due", task_due: "Due", task_close: "Close task",
    task_gone: "This task is closed or not on this phone", task_visit: "The visit that found it", task_visit_new: "Record a visit now",
    task_result: "Result", task_outcome: "What was found", choose: "Choose…",
    // The house page's flags and units, rooms and households, walking order, residence permits.
    flag_clear: "Clear flag", flags_all_open: "Every kind of flag is already set", unit_edit: "Edit unit", unit_close: "Unit has left (close)",
    unit_close_confirm: "Is this unit really no longer here?", room_none: "No room / unknown", household: "Household", household_none: "Not given",
    household_new: "A new household", household_with: "Same household as {names}", walk_order: "Walking order", walk_missing: "No route yet: sync online once and it works offline",
    walk_done: "Every house in this cell was visited this cycle", permits_due: "Permits due", permits_within: "Residence permits expiring within {days} days or expired, and yearly endorsements due within {window} days",
    permit_endorse: "Endorse by {due}",
    permit_expired: "Permit expired", permit_expires: "Permit expires", permit_number: "Residence permit number", permit_expiry: "Permit valid until", results_more: "Showing the first {n}: type more to narrow",
    cells: "Cells", search: "Search", scan: "Scan", outbox: "Outbox", login: "Log in", username: "Username", password: "Password",
    login_go: "Log in and register this phone", login_online: "The first login needs a network", login_failed: "Wrong username or password",
    pin_new: "Choose a PIN (6–12 digits)", pin_again: "Repeat the PIN", pin_go: "OK", pin_mismatch: "The two PINs differ",
    pin_format: "The PIN must be 6 to 12 digits", pin: "PIN", unlock: "Unlock", pin_forgot: "Forgot the PIN: log in again online",
    // PIN rules and the phone's login (issue 15).
    pin_wrong_left: "Wrong PIN. Tries left: {n}", pin_weak_title: "Choose a new PIN",
    pin_weak: "To protect residents' data a PIN now needs at least 6 digits: choose a new one",
    pin_destroyed: "5 wrong PINs in a row: this phone is locked. Log in online with your username and password and choose a new PIN; unsynced work is kept",
    login_too_many_devices: "This account already has two phones in use: log out on the old phone, or ask the residents' committee or the centre to revoke it in the console",
    login_role_no_device: "Police and community reporter logins cannot register the field app: police use the console on a computer, reporters report from the web page",
    login_password_change: "This account has a temporary password: change it in the console first, then log in with the new one",
    login_throttled: "Too many failed logins: try again later", login_throttled_wait: "Too many failed logins: try again in {n} s", login_expired_title: "Log in again",
    device_expired: "This phone has not synced for over 30 days, so its login expired: log in again online; unsynced work is kept and sent after the login",
    locked_title: "Locked", houses: "Houses", occupants: "Occupants", none: "None", visited: "Visited this cycle", not_visited: "Not visited this cycle",
    open_tips: "Tasks", add_occupant: "Add occupant", edit: "Edit", move_out: "Move out", record_visit: "Record visit", flag: "Flag house",
    add_house: "Add house", add_unit: "Note a unit", save: "Save", cancel: "Cancel", saved: "Saved (waiting to sync)", name: "Name",
    id_type: "ID type", id_number: "ID number", phone: "Mobile", category: "Category", relation: "Relation to the house",
    start_date: "Moved in", end_date: "Moved out", end_reason: "Reason", sex: "Sex", birth_date: "Born",
    outcome: "Outcome", note: "Note", gps: "Record location (GPS)", plate_scanned: "Plate scanned", kind: "Kind",
    road: "Road", number: "Number", building: "Building", unit_no: "Entrance", floor: "Floor", room: "Room", unit_name: "Unit name",
    uscc: "Unified social credit code", temp_code: "Temporary code", pending: "Waiting", last_sync: "Last sync", never: "never",
    sync_now: "Sync now", sync_ok: "OK", sync_failed: "failed", rejected: "Needs fixing", blocked: "Waiting for an earlier fix",
    conflicts: "Sent to the centre", resend: "Fix and resend", export: "Export the outbox", logout: "Log out and wipe this phone",
    logout_blocked: "Unsynced work remains: sync or export the file for the centre first", revoked: "This phone was revoked: export the outbox for the centre, then wipe",
    wipe: "Wipe local data", search_hint: "Name, last 4–6 ID digits, mobile, address, room or house code", results: "Results",
    scan_hint: "Point at the door plate's QR code", scan_start: "Open camera", type_code: "or type the plate code", open: "Open",
    plate_unknown: "This plate is not in your cells, or not registered", camera_refused: "The camera is not available: type the code",
    offline: "Offline", online: "Online", update_ready: "A new version is ready", update_go: "Update", db_blocked: "Close the app's other tabs and try again",
    house: "House", back: "Back", filled_from_id: "Filled in from the ID number", warnings: "Please check", error: "Error",
    unlock_to_sync: "Unlock to sync", syncing: "Syncing…", code: "Plate code", flags: "Flags", units: "Units",
    other_user_pending: "Another coordinator's unsynced work is on this phone: they must sync or export it first", exported: "File exported: hand it to the centre",
    db_reload: "The app was upgraded in another tab: reload this page (queued changes are kept)", reload: "Reload",
  },
};
const LABELS = {
  outcome: {verified: ["核实", "Verified"], no_answer: ["无人", "No answer"], refused: ["拒访", "Refused"], vacant: ["空置", "Vacant"], other: ["其他", "Other"]},
  flag: {group_rent: ["群租嫌疑", "Suspected group renting"], res_to_nonres: ["居改非", "Dwelling used as non-dwelling"],
    nonres_to_res: ["非改居", "Non-dwelling used as dwelling"], illegal_building: ["违法建筑", "Illegal building"], vacant: ["空置", "Vacant"]},
  category: {huji: ["户籍", "Local hukou"], separated: ["人户分离", "Hukou elsewhere in Shanghai"], migrant: ["来沪", "From other provinces"], overseas: ["境外", "Overseas"]},
  relation: {owner: ["产权人", "Owner"], tenant: ["承租人", "Tenant"], family: ["家庭成员", "Family member"], employee: ["单位员工", "Employee"], other: ["其他", "Other"]},
  id_type: {resident: ["居民身份证", "Resident ID card"], hmt_permit: ["港澳台居民居住证", "HK/Macao/Taiwan residence permit"],
    foreign_permanent: ["外国人永久居留身份证", "Foreign permanent residence ID"], passport: ["护照", "Passport"], other: ["其他证件", "Other document"]},
  unit_kind: {enterprise: ["企业", "Enterprise"], shop: ["个体工商户", "Shop"], public: ["机关事业单位", "Public body"], social: ["社会组织", "Social organisation"], other: ["其他", "Other"]},
  sex: {M: ["男", "Male"], F: ["女", "Female"]},
  tip_source: {public: ["群众扫码", "Public (plate scan)"], lead: ["楼组长/网格长", "Building or grid lead"], volunteer: ["志愿者", "Volunteer"],
    sync: ["系统：确认迁出", "System: confirm a move-out"], rules: ["系统：规则检查", "System: rule check"],
    property: ["物业/保安", "Property manager or guard"], permit: ["系统：居住证签注到期", "System: residence permit endorsement due"],
    unvisited: ["系统：本周期未走访", "System: not yet visited this cycle"], campaign: ["重点区域排查", "Key-area campaign"]},
  review_status: {pending: ["待审核", "Pending review"], approved: ["审核通过", "Approved"], returned: ["已退回", "Returned"]},
  review_kind: {registration: ["新登记", "Registration"], move_out: ["迁出", "Move-out"]},
  tip_kind: {moved_in: ["有人搬入", "Someone moved in"], moved_out: ["有人搬离", "Someone moved out"], problem: ["房屋问题", "A problem with the house"]},
  task_result: {changed: ["已变更登记", "Registry changed"], no_change: ["核实无变化", "Checked, no change"],
    not_found: ["查无此情况", "Not found"], duplicate: ["重复报告", "Duplicate report"]},
};

export const lang = () => (localStorage.getItem("gw-lang") === "en" ? "en" : "zh");
export function setLang(value) {
  localStorage.setItem("gw-lang", value);
  document.documentElement.lang = value === "en" ? "en" : "zh-CN";
}
export const t = (key) => STRINGS[lang()][key] ?? key;
export const label = (group, value) => (LABELS[group]?.[value]?.[lang() === "en" ? 1 : 0]) ?? value ?? "";
export const choices = (group) => Object.keys(LABELS[group]).map((v) => [v, label(group, v)]);
/** A server or validation message {zh, en} in the current language. */
export const msg = (e) => (lang() === "en" ? e.en : e.zh) || e.code;
