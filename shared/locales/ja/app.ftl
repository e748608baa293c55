# Phone app shell (mobile-api: /my, the web app manifest, the messages of app.js).
# Keys: app-<what>. The declaration wizard's own messages are in its file.

app-name = 携帯品申告
app-short-name = E-Gate
app-description = 着陸前にスマートフォンで税関へ申告し、電子申告ゲート用のQRコードを通信なしでも表示できます。
app-skip = 本文へ移動
app-language = 言語
app-my-title = 私の申告
app-my-intro = 申告のQRコードはこのスマートフォンに保存され、通信がなくても開けます。電子申告ゲートでパスポートと一緒に提示してください。
app-my-new = 新しく申告する
app-my-noscript = このスマートフォンに保存されたQRコードを表示するにはJavaScriptが必要です。
app-my-device-note = これらの申告はこのスマートフォンにのみ保存され、アカウントには保存されません。このスマートフォンを使う人は誰でも閲覧、変更、削除ができます。QRコードの有効期限が切れると、申告はこのスマートフォンから消えます。
app-my-loading = このスマートフォンに保存された申告を探しています…
app-my-empty = このスマートフォンに保存された申告はありません。
app-my-arrival = { $date } 到着
app-my-expires = QRコードの有効期限：{ $date }
app-my-show = 電子申告ゲートでパスポートと一緒にこのQRコードを提示してください。氏名や旅券番号は含まれていません。
app-my-qr-label = { $date } 到着の申告のQRコード
app-my-change = 変更
app-my-delete = 削除
app-my-delete-confirm = この申告を削除しますか？QRコードはすぐに使えなくなります。
app-my-delete-yes = 削除する
app-my-delete-no = 削除しない
app-my-deleted = 申告を削除し、このスマートフォンからも消去しました。
app-my-offline = オフラインです。QRコードはそのまま使えます。申告の変更や削除には通信が必要です。
app-my-failed = うまくいきませんでした。しばらくしてからもう一度お試しください。
app-my-kept = このQRコードはこのスマートフォンに保存されました。通信がなくても「私の申告」から表示できます。
app-my-link = 私の申告
