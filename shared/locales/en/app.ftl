# Phone app shell (mobile-api: /my, the web app manifest, the messages of app.js).
# Keys: app-<what>. The declaration wizard's own messages are in its file.

app-name = Customs declaration
app-short-name = E-Gate
app-description = Declare to Japan Customs on your phone before landing and keep the QR for the E-Gate, even without a connection.
app-skip = Skip to the main content
app-language = Language
app-my-title = My declarations
app-my-intro = The QR codes of your declarations are kept on this phone and open without a connection. Show one at the E-Gate together with your passport.
app-my-new = Make a new declaration
app-my-noscript = This page needs JavaScript to show the QR codes kept on this phone.
app-my-device-note = These declarations are stored on this phone only, never on an account. Anyone using this phone can see, change or delete them. A declaration disappears from this phone once its QR has expired.
app-my-loading = Looking for declarations kept on this phone…
app-my-empty = No declaration is kept on this phone.
app-my-arrival = Arrival on { $date }
app-my-expires = QR valid until { $date }
app-my-show = Show this QR at the E-Gate together with your passport. It holds no name or passport number.
app-my-qr-label = QR code of the declaration for arrival on { $date }
app-my-change = Change
app-my-delete = Delete
app-my-delete-confirm = Delete this declaration? Its QR will stop working at once.
app-my-delete-yes = Yes, delete it
app-my-delete-no = No, keep it
app-my-deleted = The declaration was deleted and removed from this phone.
app-my-offline = You are offline. Your QR codes still work; changing or deleting a declaration needs a connection.
app-my-failed = That did not work. Please try again in a moment.
app-my-kept = This QR is kept on this phone: open "My declarations" to show it, even without a connection.
app-my-link = My declarations
