# Phone app shell (mobile-api: /my, the web app manifest, the messages of app.js).
# Keys: app-<what>. The declaration wizard's own messages are in its file.

app-name = 海关申报
app-short-name = E-Gate
app-description = 落地前用手机向日本海关申报，并保存用于电子申报闸机的二维码，无网络时也能使用。
app-skip = 跳到主要内容
app-language = 语言
app-my-title = 我的申报
app-my-intro = 您申报的二维码保存在这部手机上，无网络时也能打开。请在电子申报闸机与护照一起出示。
app-my-new = 新建申报
app-my-noscript = 显示保存在这部手机上的二维码需要 JavaScript。
app-my-device-note = 这些申报只保存在这部手机上，不保存在任何账户中。使用这部手机的任何人都可以查看、修改或删除它们。二维码过期后，申报会从这部手机上消失。
app-my-loading = 正在查找保存在这部手机上的申报…
app-my-empty = 这部手机上没有保存的申报。
app-my-arrival = { $date } 抵达
app-my-expires = 二维码有效期至 { $date }
app-my-show = 请在电子申报闸机与护照一起出示此二维码。其中不含姓名和护照号码。
app-my-qr-label = { $date } 抵达的申报二维码
app-my-change = 修改
app-my-delete = 删除
app-my-delete-confirm = 要删除此申报吗？其二维码将立即失效。
app-my-delete-yes = 是，删除
app-my-delete-no = 不，保留
app-my-deleted = 申报已删除，并已从这部手机上移除。
app-my-offline = 您处于离线状态。二维码仍然可用；修改或删除申报需要网络。
app-my-failed = 操作未成功。请稍后再试。
app-my-kept = 此二维码已保存在这部手机上：无网络时也可在“我的申报”中打开。
app-my-link = 我的申报
