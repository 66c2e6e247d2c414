// Labels in Vietnamese (default) and English; `?lang=en` or the switch.
"use strict";

const i18n = (() => {
  const labels = {
    vi: {
      title: "Trung tâm Điều hành Thông minh",
      subtitle: "Giải quyết thủ tục hành chính và dịch vụ công trực tuyến",
      live: "Trực tiếp", connecting: "Đang kết nối…", reconnecting: "Mất kết nối, thử lại sau {0} giây",
      updated: "Cập nhật", today: "Hôm nay", "7d": "7 ngày", month: "Tháng này", quarter: "Quý này", year: "Năm nay",
      campaign: "Chiến dịch",
      online_share: "Hồ sơ trực tuyến", online_services_used_share: "DVCTT phát sinh hồ sơ",
      on_time_rate: "Giải quyết đúng hạn", late_rate: "Giải quyết quá hạn", paid_online_share: "Thanh toán trực tuyến",
      target: "Mục tiêu",
      received: "Tiếp nhận", pending: "Đang xử lý", pending_overdue: "Quá hạn", due_soon: "Sắp đến hạn",
      backlog: "Hồ sơ tồn", attention: "Cảnh báo", nothing: "Chưa có cảnh báo nào",
      alerts_summary: "{0} đang mở, {1} chưa xác nhận", alerts_open: "{0} cảnh báo chưa xác nhận",
      event_raise: "Mới", event_update: "Tăng mức", event_ack: "Đã xác nhận", event_clear: "Đã hết",
      rule_dossier_overdue: "Hồ sơ quá hạn", rule_dossier_due_soon: "Hồ sơ sắp đến hạn",
      rule_late_rate_high: "Tỷ lệ giải quyết quá hạn cao", rule_online_share_below_target: "Tỷ lệ trực tuyến dưới chỉ tiêu",
      rule_pending_overdue_many: "Nhiều hồ sơ quá hạn", rule_source_silent: "Nguồn dữ liệu không gửi",
      trend: "30 ngày gần nhất: hồ sơ tiếp nhận và tỷ lệ trực tuyến",
      close: "Đóng", unit: "Đơn vị", rankings: "Xếp hạng",
      level: "Cấp", key: "Chỉ tiêu", window: "Kỳ", scope: "Phạm vi", scope_self: "Bản thân đơn vị",
      scope_tree: "Cả địa bàn", rank: "Hạng", value: "Giá trị", fraction: "Tử số / mẫu số", movement: "Thay đổi",
      previous: "Hạng kỳ trước", download_xlsx: "Tải Excel", download_csv: "Tải CSV", unranked: "Chưa xếp hạng",
      wall: "Màn hình điều hành", dossiers: "hồ sơ",
      province: "Tỉnh", department: "Sở, ngành", district: "Huyện", commune: "Xã",
      received_online: "Tiếp nhận trực tuyến", received_direct: "Tiếp nhận trực tiếp",
      received_postal: "Tiếp nhận qua bưu chính", online_share_all: "Trực tuyến (mọi hồ sơ)",
      finished: "Đã giải quyết", finished_early: "Số hồ sơ giải quyết trước hạn",
      finished_on_time: "Số hồ sơ giải quyết đúng hạn", finished_late: "Số hồ sơ giải quyết quá hạn",
      withdrawn: "Rút, dừng xử lý", progress_rate: "Tiến độ giải quyết (766 2.1)",
      online_services: "Số DVCTT", online_services_used: "DVCTT có hồ sơ", fee_dossiers: "Hồ sơ có phí",
      paid_online: "Hồ sơ thanh toán trực tuyến", e_result_share: "Kết quả điện tử",
      full_online_share: "Hồ sơ DVCTT toàn trình",
    },
    en: {
      title: "Intelligent Operations Center",
      subtitle: "Administrative procedures and online public services",
      live: "Live", connecting: "Connecting…", reconnecting: "Disconnected, retrying in {0} s",
      updated: "Updated", today: "Today", "7d": "7 days", month: "This month", quarter: "This quarter", year: "This year",
      campaign: "Campaign",
      online_share: "Dossiers online", online_services_used_share: "Online services used",
      on_time_rate: "Finished on time", late_rate: "Finished late", paid_online_share: "Paid online",
      target: "Target",
      received: "Received", pending: "In process", pending_overdue: "Overdue", due_soon: "Due soon",
      backlog: "Backlog", attention: "Alerts", nothing: "No alert yet",
      alerts_summary: "{0} open, {1} unacknowledged", alerts_open: "{0} unacknowledged alerts",
      event_raise: "New", event_update: "Escalated", event_ack: "Acknowledged", event_clear: "Cleared",
      rule_dossier_overdue: "Overdue dossier", rule_dossier_due_soon: "Dossier due soon",
      rule_late_rate_high: "High late rate", rule_online_share_below_target: "Online share under target",
      rule_pending_overdue_many: "Many overdue dossiers", rule_source_silent: "Silent source",
      trend: "Last 30 days: dossiers received and online share",
      close: "Close", unit: "Unit", rankings: "Rankings",
      level: "Level", key: "Key", window: "Period", scope: "Scope", scope_self: "The unit itself",
      scope_tree: "Whole locality", rank: "Rank", value: "Value", fraction: "Numerator / denominator", movement: "Movement",
      previous: "Previous rank", download_xlsx: "Download Excel", download_csv: "Download CSV", unranked: "Unranked",
      wall: "Wall screen", dossiers: "dossiers",
      province: "Province", department: "Department", district: "District", commune: "Commune",
      received_online: "Received online", received_direct: "Received in person",
      received_postal: "Received by post", online_share_all: "Online (all dossiers)",
      finished: "Finished", finished_early: "Dossiers finished early",
      finished_on_time: "Dossiers finished on time", finished_late: "Dossiers finished late",
      withdrawn: "Withdrawn or stopped", progress_rate: "Progress (766 2.1)",
      online_services: "Online services", online_services_used: "Online services with dossiers",
      fee_dossiers: "Dossiers with a fee", paid_online: "Dossiers paid online", e_result_share: "Electronic results",
      full_online_share: "Fully online dossiers",
    },
  };
  /** A level's units, as a heading; a level without one is shown by its name. */
  const plurals = {
    vi: { department: "Sở, ban, ngành", district: "Huyện, thị xã, thành phố", commune: "Xã, phường, thị trấn" },
    en: { department: "Departments", district: "Districts", commune: "Communes" },
  };
  let lang = ioc.params.get("lang") || localStorage.getItem("ioc.lang") || "vi";
  if (!labels[lang]) lang = "vi";

  function t(key, ...args) {
    const text = labels[lang][key] ?? key;
    return args.reduce((s, a, i) => s.replace(`{${i}}`, a), text);
  }

  const plural = (level) => plurals[lang][level] ?? level;

  function apply(root = document) {
    document.documentElement.lang = lang;
    root.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  }

  function toggle() {
    lang = lang === "vi" ? "en" : "vi";
    localStorage.setItem("ioc.lang", lang);
    apply();
  }

  const locale = () => (lang === "vi" ? "vi-VN" : "en-GB");
  const percent = (v, digits = 1) =>
    v === null || v === undefined ? "–" : (v * 100).toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }) + "%";
  const number = (n) => (n ?? 0).toLocaleString(locale());

  return { t, plural, apply, toggle, percent, number, locale, get lang() { return lang; } };
})();
