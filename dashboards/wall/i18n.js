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
      target: "Mục tiêu", met: "Đạt", not_met: "Chưa đạt", no_target: "Không có mục tiêu đang chạy",
      districts: "Huyện, thị xã, thành phố", departments: "Sở, ban, ngành",
      received: "Tiếp nhận", pending: "Đang xử lý", pending_overdue: "Quá hạn", due_soon: "Sắp đến hạn",
      backlog: "Hồ sơ tồn", attention: "Cảnh báo", nothing: "Chưa có cảnh báo nào",
      alerts_summary: "{0} đang mở, {1} chưa xác nhận", alerts_open: "{0} cảnh báo chưa xác nhận",
      event_raise: "Mới", event_update: "Tăng mức", event_ack: "Đã xác nhận", event_clear: "Đã hết",
      rule_dossier_overdue: "Hồ sơ quá hạn", rule_dossier_due_soon: "Hồ sơ sắp đến hạn",
      rule_late_rate_high: "Tỷ lệ giải quyết quá hạn cao", rule_online_share_below_target: "Tỷ lệ trực tuyến dưới chỉ tiêu",
      rule_pending_overdue_many: "Nhiều hồ sơ quá hạn", rule_source_silent: "Nguồn dữ liệu không gửi",
      trend: "30 ngày gần nhất: hồ sơ tiếp nhận và tỷ lệ trực tuyến",
      close: "Đóng", communes: "Xã, phường, thị trấn", unit: "Đơn vị", rankings: "Xếp hạng",
      level: "Cấp", key: "Chỉ tiêu", window: "Kỳ", scope: "Phạm vi", scope_self: "Bản thân đơn vị",
      scope_tree: "Cả địa bàn", rank: "Hạng", value: "Giá trị", fraction: "Tử số / mẫu số", movement: "Thay đổi",
      previous: "Hạng kỳ trước", download_xlsx: "Tải Excel", download_csv: "Tải CSV", unranked: "Chưa xếp hạng",
      wall: "Màn hình điều hành", dossiers: "hồ sơ",
      province: "Tỉnh", department: "Sở, ngành", district: "Huyện", commune: "Xã",
    },
    en: {
      title: "Intelligent Operations Center",
      subtitle: "Administrative procedures and online public services",
      live: "Live", connecting: "Connecting…", reconnecting: "Disconnected, retrying in {0} s",
      updated: "Updated", today: "Today", "7d": "7 days", month: "This month", quarter: "This quarter", year: "This year",
      campaign: "Campaign",
      online_share: "Dossiers online", online_services_used_share: "Online services used",
      on_time_rate: "Finished on time", late_rate: "Finished late", paid_online_share: "Paid online",
      target: "Target", met: "Met", not_met: "Not met", no_target: "No campaign running",
      districts: "Districts", departments: "Departments",
      received: "Received", pending: "In process", pending_overdue: "Overdue", due_soon: "Due soon",
      backlog: "Backlog", attention: "Alerts", nothing: "No alert yet",
      alerts_summary: "{0} open, {1} unacknowledged", alerts_open: "{0} unacknowledged alerts",
      event_raise: "New", event_update: "Escalated", event_ack: "Acknowledged", event_clear: "Cleared",
      rule_dossier_overdue: "Overdue dossier", rule_dossier_due_soon: "Dossier due soon",
      rule_late_rate_high: "High late rate", rule_online_share_below_target: "Online share under target",
      rule_pending_overdue_many: "Many overdue dossiers", rule_source_silent: "Silent source",
      trend: "Last 30 days: dossiers received and online share",
      close: "Close", communes: "Communes", unit: "Unit", rankings: "Rankings",
      level: "Level", key: "Key", window: "Period", scope: "Scope", scope_self: "The unit itself",
      scope_tree: "Whole locality", rank: "Rank", value: "Value", fraction: "Numerator / denominator", movement: "Movement",
      previous: "Previous rank", download_xlsx: "Download Excel", download_csv: "Download CSV", unranked: "Unranked",
      wall: "Wall screen", dossiers: "dossiers",
      province: "Province", department: "Department", district: "District", commune: "Commune",
    },
  };
  let lang = ioc.params.get("lang") || localStorage.getItem("ioc.lang") || "vi";
  if (!labels[lang]) lang = "vi";

  function t(key, ...args) {
    const text = labels[lang][key] ?? key;
    return args.reduce((s, a, i) => s.replace(`{${i}}`, a), text);
  }

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

  return { t, apply, toggle, percent, number, locale, get lang() { return lang; } };
})();
