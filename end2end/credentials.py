"""Waits until the console at BASE is healthy, signs in as the e2e admin that serve.sh
creates (password in E2E_PASSWORD) and creates an admin API token named NAME the way an
admin does on the tokens page; prints "<session cookie> <token secret>".
Usage: python3 end2end/credentials.py BASE NAME"""
import http.cookiejar, json, os, sys, time, urllib.parse, urllib.request

base, name = sys.argv[1], sys.argv[2]
# Up once start-up has connected and migrated: health answers 200 (503 before).
for _ in range(900):
    try:
        urllib.request.urlopen(base + "/api/v1/monitoring/health", timeout=2)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the console did not become healthy within 180 s")
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def post(path, fields):
    request = urllib.request.Request(
        base + path, data=urllib.parse.urlencode(fields).encode(), headers={"Origin": base})
    return opener.open(request, timeout=30).read()


post("/api/fn/login", {"username": "e2e-admin", "password": os.environ["E2E_PASSWORD"]})
created = json.loads(post("/api/fn/create-token", {"name": name, "role": "admin", "days": "1"}))
session = next(c.value for c in jar if c.name == "ms5_session")
print(session, created["secret"])
