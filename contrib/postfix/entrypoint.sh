#!/bin/sh
# Configures Postfix as a relay for one address and runs it in the foreground.
#   QUORUM_ADDRESS   the bot's address, e.g. quorum@example.org (required)
#   QUORUM_UPSTREAM  where the bot listens, host:port (default bot:8025)
#   MAIL_HOSTNAME    this relay's name in SMTP greetings (default: the address's domain's mx.)
#   RELAY_HOST       optional smarthost for the bot's outgoing mail, e.g. [smtp.example.org]:587
set -eu

: "${QUORUM_ADDRESS:?set QUORUM_ADDRESS to the address of the bot, e.g. quorum@example.org}"
upstream="${QUORUM_UPSTREAM:-bot:8025}"
domain="${QUORUM_ADDRESS#*@}"
hostname="${MAIL_HOSTNAME:-mx.$domain}"

# Only the bot's domain is relayed; only the bot's address is routed to it, and every
# other recipient in that domain is refused at RCPT (relay_recipient_maps).
printf '%s smtp:[%s]:%s\n' "$QUORUM_ADDRESS" "${upstream%:*}" "${upstream##*:}" > /etc/postfix/transport
printf '%s OK\n' "$QUORUM_ADDRESS" > /etc/postfix/relay_recipients
postmap /etc/postfix/transport /etc/postfix/relay_recipients
postconf -e \
    "myhostname = $hostname" \
    "mydestination =" \
    "relay_domains = $domain" \
    "relay_recipient_maps = hash:/etc/postfix/relay_recipients" \
    "transport_maps = hash:/etc/postfix/transport" \
    "smtpd_recipient_restrictions = reject_unauth_destination" \
    "maillog_file = /dev/stdout" \
    "relayhost = ${RELAY_HOST:-}"
# The smtp client resolves the bot's container name: outside the chroot, where Docker's
# resolver is.
postconf -F 'smtp/unix/chroot = n'
exec postfix start-fg
