# Shared by rebuild, rebuild-dsn and delivery; sourced, not run. The caller
# sets HERE (this directory), W (the work directory, $LIVE_MTA_DIR) and DNS
# (the scripted DNS server's address) first.

# postgrey (greylisting policy server for Postfix) and the Perl modules it
# needs, unpacked together under $W/root/postgrey.
POSTGREY_PKGS="postgrey libberkeleydb-perl libnetaddr-ip-perl libnet-dns-perl libnet-server-perl libdigest-hmac-perl libio-multiplex-perl libnet-cidr-perl"

# lm_unpack PKG...: downloads the Debian packages with apt-get download into
# $W/debs (not with LIVE_MTA_OFFLINE set: the .deb files there are used) and
# unpacks each with dpkg -x under $W/root/PKG, its version in .version.
# They are not installed: Postfix, Exim and OpenSMTPD conflict as packages.
lm_unpack() {
	mkdir -p "$W/debs" "$W/root" "$W/bin"
	if [ -z "${LIVE_MTA_OFFLINE:-}" ]; then
		apt-get update -qq
		(cd "$W/debs" && apt-get download "$@")
	fi
	case " $* " in
	*" postgrey "*) rm -rf "$W/root/postgrey" ;;
	esac
	local p deb
	for p in "$@"; do
		deb=$(ls "$W/debs/${p}_"*.deb | tail -1)
		case " $POSTGREY_PKGS " in
		*" $p "*) mkdir -p "$W/root/postgrey" && dpkg -x "$deb" "$W/root/postgrey" ;;
		*)
			rm -rf "$W/root/$p" && mkdir -p "$W/root/$p" && dpkg -x "$deb" "$W/root/$p"
			dpkg-deb -f "$deb" Version >"$W/root/$p/.version"
			;;
		esac
	done
}

# lm_namespace ETC: prepares the private mount namespace the script runs in
# (after unshare -m): /etc/passwd and /etc/group with the MTAs' system users
# (and "full", the owner of a full mailbox), /etc/resolv.conf pointing at
# $DNS, and private /var/spool and /var/lib, all from copies under ETC. The
# host is left as it was.
lm_namespace() {
	local E=$1
	mount --make-rprivate /
	rm -rf "$E" && mkdir -p "$E"
	cp /etc/passwd "$E/passwd" && cp /etc/group "$E/group"
	cat >>"$E/group" <<G
postfix:x:9101:
postdrop:x:9102:
Debian-exim:x:9103:
opensmtpd:x:9104:
opensmtpq:x:9105:
full:x:9110:
G
	cat >>"$E/passwd" <<P
postfix:x:9101:9101::/nonexistent:/usr/sbin/nologin
Debian-exim:x:9103:9103::/nonexistent:/usr/sbin/nologin
opensmtpd:x:9104:9104::/var/lib/opensmtpd/empty:/usr/sbin/nologin
opensmtpq:x:9105:9105::/var/lib/opensmtpd/empty:/usr/sbin/nologin
full:x:9110:9110::/nonexistent:/usr/sbin/nologin
P
	echo "nameserver $DNS" >"$E/resolv.conf"
	echo "options timeout:1 attempts:1" >>"$E/resolv.conf"
	printf '127.0.0.1 localhost\n' >"$E/hosts"
	printf 'hosts: files dns\npasswd: files\ngroup: files\nshadow: files\n' >"$E/nsswitch.conf"
	local f
	for f in passwd group resolv.conf hosts nsswitch.conf; do
		mount --bind "$E/$f" "/etc/$f"
	done
	mount -t tmpfs tmpfs /var/spool
	mount -t tmpfs tmpfs /var/lib
	mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd && chmod 711 /var/spool/smtpd
}

# lm_postfix_dirs R: Postfix's configuration, data and queue directories
# under R, with the owners and modes postfix(1) checks (an unpacked package
# has no postinst to make them).
lm_postfix_dirs() {
	local R=$1 d
	mkdir -p "$R/etc" "$R/data" "$R/queue"
	for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
		mkdir -p "$R/queue/$d" && chown postfix:root "$R/queue/$d" && chmod 700 "$R/queue/$d"
	done
	mkdir -p "$R/queue/maildrop" "$R/queue/public" "$R/queue/pid"
	chown postfix:postdrop "$R/queue/maildrop" "$R/queue/public"
	chmod 1730 "$R/queue/maildrop" && chmod 2710 "$R/queue/public"
	chown postfix "$R/data" && chown root "$R/queue" "$R/queue/pid"
}

# lm_postfix_restrictions R SMTPD_PORT POSTSCREEN_PORT: the configuration of
# postfix/ (the restrictions of the live reply set) in R/etc.
lm_postfix_restrictions() {
	local R=$1 PF=$W/root/postfix m
	sed -e "s|@PF@|$PF|g" -e "s|@RUN@|$R|g" "$HERE/postfix/main.cf" >"$R/etc/main.cf"
	sed -e "s|@PORT_SMTPD@|$2|g" -e "s|@PORT_PSCREEN@|$3|g" -e "s|@RUN@|$R|g" "$HERE/postfix/master.cf" >"$R/etc/master.cf"
	for m in local_recipients client_access rdns_clients helo_access sender_access verify_senders recipient_access greylist_recipients empty postscreen_access.cidr; do
		cp "$HERE/postfix/$m" "$R/etc/$m"
	done
}

# lm_postfix CONFIG_DIR COMMAND: runs postfix(1) of the unpacked package,
# e.g. "start" or "stop".
lm_postfix() {
	LD_LIBRARY_PATH=$W/root/postfix/usr/lib/postfix "$W/root/postfix/usr/sbin/postfix" -c "$1" "$2"
}
