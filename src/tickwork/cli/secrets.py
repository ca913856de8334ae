"""``tickwork secrets status|rotate|reencrypt|new-key``: the vault's keys and the secrets they
seal (``tickwork.connections.vault``).

Rotation: ``rotate`` adds a new random key to ``<data dir>/vault_keys`` (0600) as the current
one and re-encrypts every stored secret with it; older keys stay in the keyring, so values
sealed under them (a backup) still open. With the keyring in ``TICKWORK_VAULT_KEYS``, put the
key ``new-key`` prints first there on every node, then run ``reencrypt``."""

from __future__ import annotations

import argparse

from tickwork.cli.common import open_client, settings_from, store_options, table


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    group = sub.add_parser("secrets", help="the keys that encrypt secrets at rest")
    cmds = group.add_subparsers(dest="secrets_command", metavar="SUBCOMMAND", required=True)
    status = cmds.add_parser("status", parents=[common], help="keys and what each seals")
    status.set_defaults(handler=_status)
    rotate = cmds.add_parser(
        "rotate", parents=[common], help="add a new current key and re-encrypt every secret"
    )
    rotate.set_defaults(handler=_rotate)
    again = cmds.add_parser(
        "reencrypt", parents=[common], help="re-encrypt every secret under the current key"
    )
    again.set_defaults(handler=_reencrypt)
    new = cmds.add_parser("new-key", help="print a new key for a TICKWORK_VAULT_KEYS keyring")
    new.set_defaults(handler=_new_key)


def _status(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        vault = tw.reload_vault()
        counts = tw.secret_counts()
    print(f"keys from: {vault.source}")
    rows = [
        [kid, "current" if kid == vault.current else "", str(counts.pop(kid, 0))]
        for kid in sorted(vault.keys)
    ]
    rows += [
        [kid, "MISSING" if kid != "clear" else "not sealed", str(n)] for kid, n in counts.items()
    ]
    table(rows, ["KEY", "STATE", "SECRETS"])
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from tickwork.connections.vault import add_key

    vault = add_key(settings_from(args).data_dir)
    print(f"new current key {vault.current}")
    return _reencrypt(args)


def _reencrypt(args: argparse.Namespace) -> int:
    with open_client(args) as tw:
        done = tw.reencrypt_secrets(by=tw.actor)
        current = tw.vault.current
    print(
        f"re-encrypted {done['values']} secret(s) of {done['jobs']} job(s) and "
        f"{done.get('connections', 0)} connection(s) under key {current}"
    )
    return 0


def _new_key(args: argparse.Namespace) -> int:
    from tickwork.connections.vault import new_key_entry

    kid, key = new_key_entry()
    print(f'"{kid}": "{key}"')
    return 0
