# ゲートとトークンの判定理由。

reason-token-bad-signature = QRコードの署名が正しくありません。税関職員にお申し出ください。
reason-token-unknown-kid = このゲートが認識しない発行元により署名されたQRコードです。
reason-token-revoked-kid = 現在は信頼されていない鍵で署名されたQRコードです。
reason-token-expired = QRコードの有効期限が切れています。もう一度申告してください。
reason-token-not-yet-valid = QRコードはまだ有効ではありません。
reason-token-malformed = 有効な税関申告のQRコードではありません。
reason-token-replayed = このQRコードはすでに使用されています。
reason-token-superseded = このQRコードは新しい申告に置き換えられたか、取り消されています。
reason-gate-restore-unconfirmed = このゲートでは現在QRコードを確認できません。税関検査台へお進みください。
reason-passport-mismatch = 旅券が申告内容と一致しません。
reason-passport-expired = 旅券の有効期限が切れています。
reason-mrz-check-digit = 旅券を正しく読み取れませんでした（チェックディジット）。
reason-mrz-malformed = 旅券を読み取れませんでした。
reason-qr-unreadable = QRコードを読み取れませんでした。
reason-declaration-items-to-declare = 申告が必要な品物があります。
reason-rules-profile-differs = 申告は別の基準で判定されていたため、再確認しました。
reason-rules-unknown-currency = 通貨{ $currency }は換算レート表にありません。税関職員が価格を確認します。
reason-selection-random = 無作為に税関検査の対象に選ばれました。
reason-selection-watch-binding = 税関検査の対象に選ばれました。
reason-selection-watch-flight = 税関検査の対象に選ばれました。
reason-token-alg-mismatch = このQRコードの署名方式はこのゲートでは受け付けられません。
reason-token-key-expired = このQRコードは使用終了後の鍵で署名されています。
reason-token-issuer-mismatch = このQRコードの発行者が署名した鍵と一致しません。
reason-token-arrival-date = QRコードの到着日が今日の前後1日以内ではありません。税関検査台へお進みください。
reason-alert-stolen-qr = 同じQRコードが別人の旅券で繰り返し提示されました（QRコード盗用の疑い）。
