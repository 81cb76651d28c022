package thread

import "context"

// ReaderData is everything a reader wrote or did on their site: what exportMyData returns.
type ReaderData struct {
	Reader   *Reader
	Comments []*Comment // every comment of theirs that still has a body, whatever its status, oldest first
	Likes    []int64    // the comments they like
	Reports  []*Report
	Appeals  []*Appeal
}

// ExportMyData returns everything the viewer wrote.
func (s *Service) ExportMyData(ctx context.Context) (*ReaderData, error) {
	r, err := s.authorize(ctx, ActOwnData, 0, nil)
	if err != nil {
		return nil, err
	}
	d, err := s.readers.ReaderData(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	d.Reader = r
	return d, nil
}

// DeleteMyAccount deletes the viewer's account: their name, their token, their likes and the bodies of all
// their comments and appeals. Comments others replied to stay as placeholders, so that the replies keep their
// place; the rest are gone. The moderation log keeps its entries, which name no one.
func (s *Service) DeleteMyAccount(ctx context.Context) (int, error) {
	r, err := s.authorize(ctx, ActOwnData, 0, nil)
	if err != nil {
		return 0, err
	}
	articles, n, err := s.readers.DeleteReader(ctx, r.ID)
	if err != nil {
		return 0, err
	}
	for _, id := range articles {
		s.changed(id)
	}
	s.readerChanged(r.ID)
	return n, nil
}
