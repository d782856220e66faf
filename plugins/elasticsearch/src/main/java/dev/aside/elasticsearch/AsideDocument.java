package dev.aside.elasticsearch;

import org.elasticsearch.core.Nullable;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.util.List;

/**
 * One document as Aside reads it. With a title, it is sent as {@code {"title", "text"}} and Aside joins the
 * two with the task's own text contract (the separator its training used, e.g. ". "); without one, the
 * text goes as a plain string.
 */
record AsideDocument(@Nullable String title, String text) {
    void toXContent(XContentBuilder b) throws IOException {
        if (title == null) {
            b.value(text);
        } else {
            b.startObject().field("title", title).field("text", text).endObject();
        }
    }

    static void array(XContentBuilder b, String name, List<AsideDocument> docs) throws IOException {
        b.startArray(name);
        for (AsideDocument d : docs) d.toXContent(b);
        b.endArray();
    }
}
