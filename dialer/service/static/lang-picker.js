// lang-picker.js - a <select> that switches an I18n's language (reusable by every page).
//   languagePicker(document.getElementById("lang"), i18n)
const NAMES = { en: "English", "zh-CN": "中文" };

export function languagePicker(select, i18n) {
  select.replaceChildren();
  for (const lang of i18n.languages) {
    const option = document.createElement("option");
    option.value = lang;
    option.textContent = NAMES[lang] || lang;
    select.append(option);
  }
  select.value = i18n.lang;
  select.addEventListener("change", () => i18n.set(select.value));
  i18n.onChange((lang) => { select.value = lang; });
}
