# Phone app shell (mobile-api: /my, the web app manifest, the messages of app.js).
# Keys: app-<what>. The declaration wizard's own messages are in its file.

app-name = 海關申報
app-short-name = E-Gate
app-description = 降落前用手機向日本海關申報，並保存用於電子申報閘門的 QR 碼，沒有網路時也能使用。
app-skip = 跳至主要內容
app-language = 語言
app-my-title = 我的申報
app-my-intro = 您申報的 QR 碼保存在這支手機上，沒有網路時也能開啟。請在電子申報閘門與護照一起出示。
app-my-new = 新增申報
app-my-noscript = 顯示保存在這支手機上的 QR 碼需要 JavaScript。
app-my-device-note = 這些申報只保存在這支手機上，不保存在任何帳戶中。使用這支手機的任何人都可以查看、修改或刪除它們。QR 碼過期後，申報會從這支手機上消失。
app-my-loading = 正在尋找保存在這支手機上的申報…
app-my-empty = 這支手機上沒有保存的申報。
app-my-arrival = { $date } 抵達
app-my-expires = QR 碼有效期至 { $date }
app-my-show = 請在電子申報閘門與護照一起出示此 QR 碼。其中不含姓名和護照號碼。
app-my-qr-label = { $date } 抵達的申報 QR 碼
app-my-change = 修改
app-my-delete = 刪除
app-my-delete-confirm = 要刪除此申報嗎？其 QR 碼將立即失效。
app-my-delete-yes = 是，刪除
app-my-delete-no = 不，保留
app-my-deleted = 申報已刪除，並已從這支手機上移除。
app-my-offline = 您目前離線。QR 碼仍然可用；修改或刪除申報需要網路。
app-my-failed = 操作未成功。請稍後再試。
app-my-kept = 此 QR 碼已保存在這支手機上：沒有網路時也可在「我的申報」中開啟。
app-my-link = 我的申報
