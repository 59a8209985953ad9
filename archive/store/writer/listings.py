"""The writer's listings: which list pages link to which articles (with the title as
listed), moved to the final URL when an article is reached through a redirect."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urljoin

from sqlalchemy import select, update

from archive.store.home import ArchiveHome
from archive.store.tables import ARTICLES, CAPTURES, LISTINGS
from archive.store.writer.durability import DurableWriter, WriterOptions, guarded

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECT_HOPS = 10


class ListingWriter(DurableWriter):
    """Records list pages' links."""

    def __init__(self, home: ArchiveHome, options: WriterOptions):
        super().__init__(home, options)
        upsert_listing = self._dialect_insert(LISTINGS)
        self._upsert_listing = upsert_listing.on_conflict_do_update(
            index_elements=["article_url", "section"],
            set_={
                "last_seen_at": upsert_listing.excluded.last_seen_at,
                "list_url": upsert_listing.excluded.list_url,
                "title_listed": upsert_listing.excluded.title_listed,
            },
        )

    @guarded
    def note_listings(
        self,
        *,
        site: str,
        section: str,
        section_name: str | None,
        list_url: str,
        links: list[tuple[str, str | None]],
        seen_at: datetime,
    ) -> None:
        """Record the article links of one list page: (article URL, title as listed)."""
        if not links:
            return
        self.connection.execute(
            self._upsert_listing,
            [
                {
                    "site": site,
                    "article_url": article_url,
                    "section": section,
                    "section_name": section_name,
                    "list_url": list_url,
                    "title_listed": title_listed,
                    "first_seen_at": seen_at,
                    "last_seen_at": seen_at,
                }
                for article_url, title_listed in links
            ],
        )
        self._wrote()

    @guarded
    def move_listings(self, from_url: str, to_url: str) -> None:
        """An article reached through a redirect: its listings belong to the final URL."""
        taken = set(
            self.connection.scalars(
                select(LISTINGS.c.section).where(LISTINGS.c.article_url == to_url)
            )
        )
        self.connection.execute(
            update(LISTINGS)
            .where(LISTINGS.c.article_url == from_url, LISTINGS.c.section.not_in(taken))
            .values(article_url=to_url)
        )
        self._wrote()

    def _move_redirected_listings(self) -> None:
        """Listings of URLs that redirect to an archived article belong to that article.

        The crawler moves them as it follows each redirect; in a distributed crawl another
        worker may commit a list page's links after that, so every run ends with this."""
        redirects = dict(
            self.connection.execute(
                select(CAPTURES.c.url, CAPTURES.c.location)
                .where(CAPTURES.c.status.in_(REDIRECT_STATUSES), CAPTURES.c.location.is_not(None))
                .where(CAPTURES.c.url.in_(select(LISTINGS.c.article_url)))
                .order_by(CAPTURES.c.id)
            ).all()
        )
        for source in redirects:
            target, hops = source, 0
            while target in redirects and hops < MAX_REDIRECT_HOPS:
                target, hops = urljoin(target, redirects[target]), hops + 1
            if target != source and self.connection.scalar(
                select(ARTICLES.c.id).where(ARTICLES.c.url == target)
            ):
                self.move_listings(source, target)
