// Sign-in page behaviour. The form itself works without JavaScript; this
// only shows mod_auth_form's error redirect (?error=1) and keeps the in-app
// route the user was headed to (#/profile …), which browsers carry through
// Apache's redirect to this page.

const params = new URLSearchParams(location.search);
const error = document.getElementById('login-error');
const username = document.getElementById('username');
const target = document.getElementById('login-location');

if (params.has('error')) {
  error.hidden = false;
  username.setAttribute('aria-describedby', 'login-error');
}

// The shell lives next to this page (/chat/login.html → /chat/).
const shell = new URL('./', location.href);
if (location.hash.startsWith('#/')) shell.hash = location.hash;
target.value = shell.pathname + shell.hash;
