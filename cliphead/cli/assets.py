"""``check assets`` and ``download assets``: the data the project uses (ICT-FaceKit)."""

from __future__ import annotations

import argparse

from cliphead.cli.common import CommandTree, emit


def register(commands: CommandTree) -> None:
    """Add ``check assets`` and ``download assets``."""
    commands.command(
        "check",
        "assets",
        run_check_assets,
        help="locate ICT-FaceKit and load it (parses once, then cached)",
        examples=["cliphead check assets"],
    )
    commands.command(
        "download",
        "assets",
        run_download_assets,
        help="download ICT-FaceKit (pinned commit) into the user cache",
        examples=["cliphead download assets", "cliphead check assets"],
    )


def run_check_assets(args: argparse.Namespace) -> None:
    """Find and load ICT-FaceKit (:func:`cliphead.heads.ict.check_ict_facekit`); print its sizes."""
    from cliphead.heads.ict import check_ict_facekit

    found = check_ict_facekit()
    emit(
        f"ICT-FaceKit: {found['ict_facekit']}\n  {found['n_vertices']} vertices, {found['n_identity_modes']} identity "
        f"modes, {found['n_expression_modes']} expressions, {found['n_landmarks']} landmarks; loaded in "
        f"{found['load_seconds']:.2f} s",
        found,
    )


def run_download_assets(args: argparse.Namespace) -> None:
    """Download ICT-FaceKit (:func:`cliphead.assets.download_ict_facekit`); say where it went."""
    from cliphead.assets import download_ict_facekit

    folder = download_ict_facekit()
    emit(f"ICT-FaceKit is in {folder}", {"ict_facekit": str(folder)})
